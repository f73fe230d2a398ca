/*
 * Benchmark helper: many simple uploads on one client through the C API.
 * Prints what it measured as one JSON line. Run by `make bench`
 * (bench/run.py), which builds it against the static library:
 *
 *   gcc -O2 -Iinclude examples/bench_small.c target/release/libonedrive_native.a \
 *       -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
 *   bench_small_c BASE_URL TOKEN COUNT SIZE_BYTES [FOLDER]
 *
 * Uploads COUNT files of SIZE_BYTES to FOLDER/f{i}.bin (default
 * /bench/small) with od_upload, the service's default conflict behaviour.
 * The clock runs from the first upload to the last answer.
 * ONEDRIVE_CA_FILE names a CA (PEM) to trust besides the system's.
 */
#define _POSIX_C_SOURCE 199309L
#include "onedrive.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, od_status s) {
    char msg[512] = "";
    od_last_error_string(OD_ERROR_MESSAGE, msg, sizeof msg, NULL);
    fprintf(stderr, "%s failed: %s (HTTP %d): %s\n", what, od_status_str(s),
            (int)od_last_error_http_status(), msg);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: bench_small_c BASE_URL TOKEN COUNT SIZE_BYTES [FOLDER]\n");
        return 2;
    }
    long count = strtol(argv[3], NULL, 10);
    size_t size = (size_t)strtoull(argv[4], NULL, 10);
    const char *folder = argc > 5 ? argv[5] : "/bench/small";

    od_client *client = NULL;
    od_status s = od_client_new(argv[1], argv[2], 0, &client);
    if (s != OD_OK) return fail("od_client_new", s);
    const char *ca_file = getenv("ONEDRIVE_CA_FILE");
    if (ca_file) {
        s = od_client_add_ca_file(client, ca_file);
        if (s != OD_OK) return fail("od_client_add_ca_file", s);
    }
    uint8_t *data = malloc(size ? size : 1);
    if (!data) return 1;
    for (size_t i = 0; i < size; i++) data[i] = (uint8_t)(i * 7 + 13);

    char name[64];
    double started = now();
    for (long i = 0; i < count; i++) {
        snprintf(name, sizeof name, "f%ld.bin", i);
        od_item *item = NULL;
        s = od_upload(client, NULL, folder, name, data, size, OD_CONFLICT_DEFAULT, NULL, NULL, NULL, &item);
        if (s != OD_OK) return fail("od_upload", s);
        if (od_item_size(item) != (int64_t)size) {
            fprintf(stderr, "upload %ld: the item has size %lld\n", i, (long long)od_item_size(item));
            return 1;
        }
        od_item_free(item);
    }
    double seconds = now() - started;
    printf("{\"seconds\": %.6f, \"count\": %ld, \"bytes\": %llu}\n", seconds, count,
           (unsigned long long)count * (unsigned long long)size);
    free(data);
    od_client_free(client);
    return 0;
}
