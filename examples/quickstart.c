/*
 * Quickstart in C: upload a file, copy it, follow the copy to its end.
 *
 *   ONEDRIVE_BASE_URL=... ONEDRIVE_TOKEN=... ./quickstart
 *
 * `make demo-c` builds it and runs it against a local onedrive-emulator.
 * Link: cc quickstart.c -Iinclude target/release/libonedrive_native.a \
 *          -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
 */
#include "onedrive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int show_progress(void *userdata, uint64_t done, uint64_t total) {
    printf("\r  %-8s %6.1f %%", (const char *)userdata, total ? 100.0 * (double)done / (double)total : 100.0);
    fflush(stdout);
    return 0; /* non-zero would abort */
}

static int fail(const char *what, od_status s) {
    char msg[512] = "", code[128] = "";
    od_last_error_string(OD_ERROR_MESSAGE, msg, sizeof msg, NULL);
    od_last_error_string(OD_ERROR_CODE, code, sizeof code, NULL);
    fprintf(stderr, "\n%s failed: %s\n  HTTP %d, code '%s': %s\n", what, od_status_str(s),
            (int)od_last_error_http_status(), code, msg);
    return 1;
}

int main(void) {
    const char *base = getenv("ONEDRIVE_BASE_URL"); /* NULL: https://graph.microsoft.com/v1.0 */
    const char *token = getenv("ONEDRIVE_TOKEN");
    od_client *client = NULL;
    od_status s = od_client_new(base, token, 0, &client);
    if (s != OD_OK) return fail("od_client_new", s);
    /* A CA to trust besides the system's: a company's TLS-inspecting proxy,
       or the emulator's (it prints ca_file= at start). */
    const char *ca_file = getenv("ONEDRIVE_CA_FILE");
    if (ca_file != NULL && ca_file[0] != 0 && (s = od_client_add_ca_file(client, ca_file)) != OD_OK)
        return fail("od_client_add_ca_file", s);
    printf("onedrive-native %s\n", od_version());

    const char text[] = "The contents of the file goes here.";
    od_item *file = NULL;
    s = od_upload(client, NULL, "/quickstart", "hello.txt", (const uint8_t *)text, strlen(text),
                  OD_CONFLICT_REPLACE, show_progress, "upload", NULL, &file);
    if (s != OD_OK) return fail("od_upload", s);
    printf("\n  uploaded %s: %lld bytes, id %s\n", od_item_name(file), (long long)od_item_size(file),
           od_item_id(file));

    od_job *job = NULL;
    s = od_copy(client, NULL, od_item_id(file), "/quickstart", NULL, "hello copy.txt", OD_CONFLICT_REPLACE, 0, &job);
    if (s != OD_OK) return fail("od_copy", s);
    /* The monitor URL is a capability (anyone holding it can follow the
     * job): save it where only the app can read it, never print or log it. */
    printf("  copy started (%zu-byte monitor URL kept to follow it)\n", strlen(od_job_monitor_url(job)));

    od_item *copy = NULL;
    s = od_wait_job(client, job, 60000, show_progress, "copy", NULL, &copy);
    if (s != OD_OK) return fail("od_wait_job", s);
    printf("\n  copied to %s (id %s)\n", od_item_name(copy), od_item_id(copy));

    od_item_free(copy);
    od_job_free(job);
    od_item_free(file);
    od_client_free(client);
    return 0;
}
