/*
 * Every exported function of onedrive.h, called from C against a running
 * onedrive-emulator, bad inputs included (NULL and invalid UTF-8 for each
 * pointer argument). Built with -std=c11 -Wall -Wextra -Werror -pedantic
 * and run under valgrind by tests/c/run.sh, which starts the emulator and
 * passes its address in the environment:
 *   OD_TEST_BASE_URL, OD_TEST_TOKEN, OD_TEST_MONITOR_ORIGIN, OD_TEST_SOURCE_URL,
 *   OD_TEST_CA_FILE (the emulator's CA for https; empty over plain http)
 * Also cross-built with mingw-w64 and run under Wine (make test-windows).
 */
#define _POSIX_C_SOURCE 200809L
#include "onedrive.h"
#include "statuses.g.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#include <direct.h>
#include <windows.h>
#endif

static int passed, failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)

#define CHECK_STATUS(expr, want)                                              \
    do {                                                                      \
        od_status got_ = (expr);                                              \
        if (got_ == (want)) {                                                 \
            passed++;                                                         \
        } else {                                                              \
            char msg_[512] = "";                                              \
            od_last_error_string(OD_ERROR_MESSAGE, msg_, sizeof msg_, NULL);  \
            failed++;                                                         \
            fprintf(stderr, "%s:%d: FAILED: %s gave %d (%s), wanted %s: %s\n", \
                    __FILE__, __LINE__, #expr, (int)got_,                      \
                    od_status_str(got_), #want, msg_);                         \
        }                                                                     \
    } while (0)

static const char BAD_UTF8[] = {(char)0xff, (char)0xfe, 'x', 0};

static const char *env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || v[0] == 0) {
        fprintf(stderr, "%s is not set: run this through tests/c/run.sh\n", name);
        exit(2);
    }
    return v;
}

static const char *base_url, *token, *monitor_origin, *source_url, *ca_file;

/* A client of the emulator, trusting the CA it made at start (HTTPS). */
static od_client *new_client(void) {
    od_client *c = NULL;
    CHECK_STATUS(od_client_new(base_url, token, 0, &c), OD_OK);
    if (c != NULL && ca_file[0] != 0) CHECK_STATUS(od_client_add_ca_file(c, ca_file), OD_OK);
    return c;
}

static void test_static_functions(void) {
    const char *v = od_version();
    CHECK(v != NULL && strlen(v) >= 5 && strchr(v, '.') != NULL);
    CHECK(strcmp(v, OD_VERSION_STRING) == 0);
    char parts[64];
    snprintf(parts, sizeof parts, "%d.%d.%d", OD_VERSION_MAJOR, OD_VERSION_MINOR, OD_VERSION_PATCH);
    CHECK(strncmp(v, parts, strlen(parts)) == 0);
    /* Every status of the ABI (tests/c/statuses.g.h is generated from
     * include/onedrive.abi.json): its description begins with its name. */
    for (size_t i = 0; i < OD_TEST_STATUS_COUNT; i++) {
        const char *t = od_status_str(od_test_statuses[i].status);
        size_t n = strlen(od_test_statuses[i].name);
        CHECK(t != NULL && strncmp(t, od_test_statuses[i].name, n) == 0 && (t[n] == ':' || t[n] == '\0'));
    }
    /* and the number after the last one is unknown */
    CHECK(strcmp(od_status_str(od_test_statuses[OD_TEST_STATUS_COUNT - 1].status + 1), "unknown od_status") == 0);
    CHECK(strcmp(od_status_str(-1), "unknown od_status") == 0);
    CHECK(strcmp(od_status_str(100000), "unknown od_status") == 0);
    CHECK(strncmp(od_status_str(OD_ERR_CONFLICT), "OD_ERR_CONFLICT", 15) == 0);
}

static void test_client_new_and_setters(void) {
    od_client *c = NULL;
    CHECK_STATUS(od_client_new(base_url, token, 0, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_new(BAD_UTF8, token, 0, &c), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_client_new(base_url, BAD_UTF8, 0, &c), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_client_new("not a url", token, 0, &c), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_new("http://example.com/v1.0", token, 0, &c), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_new(base_url, token, 0x80, &c), OD_ERR_INVALID_ARGUMENT);
    CHECK(c == NULL); /* out-params untouched on failure */
    CHECK_STATUS(od_client_new("http://example.com/v1.0", token, OD_CLIENT_ALLOW_INSECURE_HTTP, &c), OD_OK);
    od_client_free(c);
    c = NULL;
    CHECK_STATUS(od_client_new(NULL, NULL, 0, &c), OD_OK); /* Graph's default URL, no token */
    CHECK(c != NULL);
    od_client_free(c);
    od_client_free(NULL);

    c = new_client();
    CHECK_STATUS(od_client_set_token(NULL, "t"), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_token(c, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_token(c, BAD_UTF8), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_client_set_token(c, token), OD_OK);
    CHECK_STATUS(od_client_set_token_with_expiry(NULL, "t", 0), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_token_with_expiry(c, NULL, 0), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_token_with_expiry(c, BAD_UTF8, 0), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_client_set_token_with_expiry(c, token, -1), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_token_with_expiry(c, token, 4102444800), OD_OK); /* 2100-01-01 */
    CHECK_STATUS(od_client_set_timeouts(NULL, 1000, 1000), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_timeouts(c, 0, 1000), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_timeouts(c, 5000, 30000), OD_OK);
    CHECK_STATUS(od_client_set_retry(NULL, 3, 1000), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_retry(c, 0, 1000), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_retry(c, 4, 10000), OD_OK);
    CHECK_STATUS(od_client_set_user_agent(NULL, "ua"), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_user_agent(c, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_user_agent(c, BAD_UTF8), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_client_set_user_agent(c, "bad\nagent"), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_user_agent(c, "test_api.c/1.0"), OD_OK);
    CHECK_STATUS(od_client_set_token_callback(NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_token_callback(c, NULL, NULL), OD_OK);
    od_client_free(c);
}

static void test_last_error(void) {
    od_last_error_clear();
    CHECK(od_last_error_status() == OD_OK);
    CHECK(od_last_error_http_status() == 0);
    CHECK(od_last_error_retry_after_ms() == -1);
    size_t needed = 99;
    char buf[256];
    CHECK_STATUS(od_last_error_string(OD_ERROR_MESSAGE, NULL, 0, &needed), OD_ERR_BUFFER_TOO_SMALL);
    CHECK(needed == 1);
    CHECK_STATUS(od_last_error_string(OD_ERROR_MESSAGE, buf, sizeof buf, NULL), OD_OK);
    CHECK(buf[0] == 0);

    od_client *c = NULL;
    CHECK_STATUS(od_client_new(BAD_UTF8, NULL, 0, &c), OD_ERR_INVALID_UTF8);
    CHECK(od_last_error_status() == OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_last_error_string(OD_ERROR_MESSAGE, NULL, 0, &needed), OD_ERR_BUFFER_TOO_SMALL);
    CHECK(needed > 1);
    char tiny[4] = "abc";
    CHECK_STATUS(od_last_error_string(OD_ERROR_MESSAGE, tiny, sizeof tiny, NULL), OD_ERR_BUFFER_TOO_SMALL);
    CHECK(strcmp(tiny, "abc") == 0); /* untouched */
    CHECK_STATUS(od_last_error_string(OD_ERROR_MESSAGE, buf, needed, NULL), OD_OK);
    CHECK(strlen(buf) == needed - 1 && strstr(buf, "UTF-8") != NULL);
    CHECK_STATUS(od_last_error_string(OD_ERROR_CODE, buf, sizeof buf, NULL), OD_OK);
    CHECK(buf[0] == 0);
    CHECK_STATUS(od_last_error_string(42, buf, sizeof buf, NULL), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_last_error_string(-1, buf, sizeof buf, NULL), OD_ERR_INVALID_ARGUMENT);
    /* reading does not clear it */
    CHECK(od_last_error_status() == OD_ERR_INVALID_UTF8);
    od_last_error_clear();
    CHECK(od_last_error_status() == OD_OK);
}

static void test_cancel(void) {
    od_cancel *k = NULL;
    CHECK_STATUS(od_cancel_new(NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_cancel_new(&k), OD_OK);
    CHECK(!od_cancel_is_triggered(k));
    od_cancel_trigger(k);
    od_cancel_trigger(k);
    CHECK(od_cancel_is_triggered(k));
    od_cancel_reset(k);
    CHECK(!od_cancel_is_triggered(k));
    CHECK(!od_cancel_is_triggered(NULL));
    od_cancel_trigger(NULL);
    od_cancel_reset(NULL);
    od_cancel_free(k);
    od_cancel_free(NULL);
}

struct progress_log {
    int calls;
    uint64_t last_done, last_total;
    int stop_after; /* 0 = never */
};

static int on_progress(void *userdata, uint64_t done, uint64_t total) {
    struct progress_log *p = userdata;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    return p->stop_after > 0 && p->calls >= p->stop_after;
}

static const uint8_t CONTENT[] = "The contents of the file goes here.";

static void test_upload_and_items(void) {
    od_client *c = new_client();
    od_item *it = NULL;
    size_t n = sizeof CONTENT - 1;

    /* bad inputs, one per argument */
    CHECK_STATUS(od_upload(NULL, NULL, "/", "a.txt", CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload(c, BAD_UTF8, "/", "a.txt", CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload(c, "/nope", "/", "a.txt", CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_upload(c, NULL, NULL, "a.txt", CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload(c, NULL, BAD_UTF8, "a.txt", CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload(c, NULL, "", "a.txt", CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_upload(c, NULL, "/", BAD_UTF8, CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload(c, NULL, "/", "", CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_upload(c, NULL, "/", "a:b.txt", CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_upload(c, NULL, "/", NULL, CONTENT, n, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_upload(c, NULL, "/", "a.txt", NULL, 5, 0, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload(c, NULL, "/", "a.txt", CONTENT, n, 7, NULL, NULL, NULL, &it), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_upload(c, NULL, "/", "a.txt", CONTENT, n, -1, NULL, NULL, NULL, &it), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_upload(c, NULL, "/", "a.txt", CONTENT, n, 0, NULL, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK(it == NULL);

    /* the documented example, with progress */
    struct progress_log p = {0, 0, 0, 0};
    CHECK_STATUS(od_upload(c, "/me/drive", "/FolderA/FileB.txt", NULL, CONTENT, n, OD_CONFLICT_DEFAULT,
                           on_progress, &p, NULL, &it), OD_OK);
    CHECK(it != NULL);
    CHECK(p.calls >= 1 && p.last_done == n && p.last_total == n);
    CHECK(od_item_size(it) == 35);
    CHECK(strcmp(od_item_name(it), "FileB.txt") == 0);
    CHECK(od_item_id(it) != NULL && od_item_id(it)[0] != 0);
    CHECK(od_item_etag(it) != NULL);
    CHECK(od_item_ctag(it) != NULL);
    CHECK(od_item_drive_id(it) != NULL);
    CHECK(od_item_parent_id(it) != NULL);
    CHECK(od_item_quick_xor_hash(it) != NULL);
    CHECK(strstr(od_item_json(it), "\"FileB.txt\"") != NULL);
    CHECK(!od_item_is_folder(it));
    /* accessors on NULL */
    CHECK(od_item_id(NULL) == NULL && od_item_name(NULL) == NULL && od_item_etag(NULL) == NULL);
    CHECK(od_item_ctag(NULL) == NULL && od_item_drive_id(NULL) == NULL && od_item_parent_id(NULL) == NULL);
    CHECK(od_item_quick_xor_hash(NULL) == NULL && od_item_json(NULL) == NULL);
    CHECK(od_item_size(NULL) == -1 && !od_item_is_folder(NULL));

    /* conflict fail: 409 with the service's detail */
    od_item *dup = NULL;
    CHECK_STATUS(od_upload(c, NULL, "/FolderA", "FileB.txt", CONTENT, n, OD_CONFLICT_FAIL, NULL, NULL, NULL, &dup),
                 OD_ERR_CONFLICT);
    CHECK(dup == NULL);
    CHECK(od_last_error_http_status() == 409);
    char code[64];
    CHECK_STATUS(od_last_error_string(OD_ERROR_CODE, code, sizeof code, NULL), OD_OK);
    CHECK(strcmp(code, "nameAlreadyExists") == 0);
    char rid[128];
    CHECK_STATUS(od_last_error_string(OD_ERROR_REQUEST_ID, rid, sizeof rid, NULL), OD_OK);
    CHECK(rid[0] != 0);
    CHECK_STATUS(od_last_error_string(OD_ERROR_INNER_CODE, rid, sizeof rid, NULL), OD_OK);

    /* rename, replace by id, and a zero-byte file from a NULL buffer */
    CHECK_STATUS(od_upload(c, NULL, "/FolderA", "FileB.txt", CONTENT, n, OD_CONFLICT_RENAME, NULL, NULL, NULL, &dup),
                 OD_OK);
    CHECK(strcmp(od_item_name(dup), "FileB 1.txt") == 0);
    od_item_free(dup);
    dup = NULL;
    CHECK_STATUS(od_upload(c, NULL, od_item_id(it), NULL, (const uint8_t *)"new", 3, OD_CONFLICT_REPLACE, NULL, NULL,
                           NULL, &dup), OD_OK);
    CHECK(strcmp(od_item_id(dup), od_item_id(it)) == 0 && od_item_size(dup) == 3);
    od_item_free(dup);
    dup = NULL;
    CHECK_STATUS(od_upload(c, NULL, "/FolderA", "empty.txt", NULL, 0, 0, NULL, NULL, NULL, &dup), OD_OK);
    CHECK(od_item_size(dup) == 0);
    od_item_free(dup);

    /* a progress callback that says stop, and a raised cancel flag */
    struct progress_log stop = {0, 0, 0, 1};
    CHECK_STATUS(od_upload(c, NULL, "/", "stop.txt", CONTENT, n, 0, on_progress, &stop, NULL, &dup),
                 OD_ERR_ABORTED_BY_CALLBACK);
    od_cancel *k = NULL;
    CHECK_STATUS(od_cancel_new(&k), OD_OK);
    od_cancel_trigger(k);
    CHECK_STATUS(od_upload(c, NULL, "/", "cancelled.txt", CONTENT, n, 0, NULL, NULL, k, &dup), OD_ERR_CANCELLED);
    od_cancel_free(k);

    /* above the simple-upload limit: an upload session */
    size_t big = 4 * 1024 * 1024 + 1;
    uint8_t *buf = calloc(big, 1);
    CHECK_STATUS(od_upload(c, NULL, "/", "big.bin", buf, big, 0, NULL, NULL, NULL, &dup), OD_OK);
    CHECK(od_item_size(dup) == (int64_t)big);
    od_item_free(dup);
    free(buf);

    /* od_item_get */
    od_item *got = NULL;
    CHECK_STATUS(od_item_get(NULL, NULL, "/FolderA", &got), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_item_get(c, BAD_UTF8, "/FolderA", &got), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_get(c, NULL, NULL, &got), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_item_get(c, NULL, BAD_UTF8, &got), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_get(c, NULL, "/FolderA", NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_item_get(c, NULL, "/missing", &got), OD_ERR_NOT_FOUND);
    CHECK(od_last_error_http_status() == 404);
    CHECK_STATUS(od_item_get(c, NULL, "/FolderA", &got), OD_OK);
    CHECK(od_item_is_folder(got));
    od_item_free(got);

    od_item_free(it);
    od_item_free(NULL);
    od_client_free(c);
}

struct cancel_when_running {
    od_cancel *cancel;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int progressed;
};

static int signal_progress(void *userdata, uint64_t done, uint64_t total) {
    struct cancel_when_running *w = userdata;
    (void)done;
    (void)total;
    pthread_mutex_lock(&w->mu);
    w->progressed = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

static void *canceller(void *arg) {
    struct cancel_when_running *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->progressed) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    od_cancel_trigger(w->cancel);
    return NULL;
}

static void test_copy_and_jobs(void) {
    od_client *c = new_client();
    od_item *src = NULL;
    CHECK_STATUS(od_upload(c, NULL, "/copy-src", "f.txt", CONTENT, sizeof CONTENT - 1, 0, NULL, NULL, NULL, &src),
                 OD_OK);
    od_job *job = NULL;
    /* bad inputs */
    CHECK_STATUS(od_copy(NULL, NULL, "/copy-src/f.txt", "/", NULL, "g.txt", 0, 0, &job), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_copy(c, BAD_UTF8, "/copy-src/f.txt", "/", NULL, "g.txt", 0, 0, &job), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_copy(c, NULL, NULL, "/", NULL, "g.txt", 0, 0, &job), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_copy(c, NULL, BAD_UTF8, "/", NULL, "g.txt", 0, 0, &job), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_copy(c, NULL, "/copy-src/f.txt", NULL, NULL, "g.txt", 0, 0, &job), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_copy(c, NULL, "/copy-src/f.txt", BAD_UTF8, NULL, "g.txt", 0, 0, &job), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_copy(c, NULL, "/copy-src/f.txt", "/", BAD_UTF8, "g.txt", 0, 0, &job), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_copy(c, NULL, "/copy-src/f.txt", "/", NULL, BAD_UTF8, 0, 0, &job), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_copy(c, NULL, "/copy-src/f.txt", "/", NULL, "g|h.txt", 0, 0, &job), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_copy(c, NULL, "/copy-src/f.txt", "/", NULL, "g.txt", 9, 0, &job), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_copy(c, NULL, "/copy-src/f.txt", "/", NULL, "g.txt", 0, 4, &job), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_copy(c, NULL, "/copy-src/f.txt", "/", NULL, "g.txt", 0, 0, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK(job == NULL);
    /* a name in use, refused at once */
    CHECK_STATUS(od_copy(c, NULL, "/copy-src/f.txt", "/copy-src", NULL, NULL, OD_CONFLICT_FAIL, 0, &job),
                 OD_ERR_CONFLICT);

    /* a copy followed to its end, with progress */
    CHECK_STATUS(od_copy(c, NULL, od_item_id(src), "/", NULL, "g.txt", OD_CONFLICT_FAIL, 0, &job), OD_OK);
    CHECK(job != NULL);
    CHECK(od_job_last_state(job) == OD_JOB_UNKNOWN);
    const char *url = od_job_monitor_url(job);
    CHECK(url != NULL && strncmp(url, monitor_origin, strlen(monitor_origin)) == 0);
    CHECK(od_job_monitor_url(NULL) == NULL);
    od_item *made = NULL;
    CHECK_STATUS(od_job_item(job, &made), OD_ERR_INVALID_STATE);
    od_job_state st = OD_JOB_UNKNOWN;
    double pct = -2;
    CHECK_STATUS(od_poll_job(NULL, job, &st, &pct), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_poll_job(c, NULL, &st, &pct), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_poll_job(c, job, NULL, &pct), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_poll_job(c, job, &st, NULL), OD_OK);
    CHECK_STATUS(od_poll_job(c, job, &st, &pct), OD_OK);
    CHECK(pct == -1 || (pct >= 0 && pct <= 100));
    struct progress_log p = {0, 0, 0, 0};
    CHECK_STATUS(od_wait_job(NULL, job, 0, NULL, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_wait_job(c, NULL, 0, NULL, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_wait_job(c, job, 60000, on_progress, &p, NULL, &made), OD_OK);
    CHECK(p.calls >= 1 && p.last_total == 10000 && p.last_done == 10000);
    CHECK(made != NULL && strcmp(od_item_name(made), "g.txt") == 0);
    CHECK(od_job_last_state(job) == OD_JOB_COMPLETED);
    od_item *again = NULL;
    CHECK_STATUS(od_job_item(NULL, &again), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_job_item(job, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_job_item(job, &again), OD_OK);
    CHECK(strcmp(od_item_id(again), od_item_id(made)) == 0);
    od_item_free(again);
    od_item_free(made);

    /* the job rebuilt from its saved monitor URL */
    od_job *resumed = NULL;
    CHECK_STATUS(od_job_from_monitor_url(NULL, NULL, &resumed), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_job_from_monitor_url(BAD_UTF8, NULL, &resumed), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_job_from_monitor_url(url, BAD_UTF8, &resumed), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_job_from_monitor_url("nope", NULL, &resumed), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_job_from_monitor_url(url, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_job_from_monitor_url(url, "/me/drive", &resumed), OD_OK);
    CHECK(strcmp(od_job_monitor_url(resumed), url) == 0);
    CHECK_STATUS(od_wait_job(c, resumed, 60000, NULL, NULL, NULL, NULL), OD_OK);
    CHECK(od_job_last_state(resumed) == OD_JOB_COMPLETED);
    od_job_free(resumed);
    od_job_free(job);
    od_job_free(NULL);

    /* legacy action.copy */
    job = NULL;
    CHECK_STATUS(od_copy(c, "/drive", "/copy-src/f.txt", "/", NULL, "legacy.txt", 0, OD_COPY_LEGACY, &job), OD_OK);
    CHECK_STATUS(od_wait_job(c, job, 60000, NULL, NULL, NULL, NULL), OD_OK);
    od_job_free(job);

    /* A job the emulator holds in progress until told otherwise (tests/c/run.sh
       starts it with a hold_job fault on copies of anything under /held-job/),
       so that what ends each wait below is the caller, never the job, however
       slow the machine: a timeout, a callback that says stop, and a cancel
       raised from another thread once the wait has looked at the job. The
       waits' own timeouts (two minutes) are hang guards only. */
    od_item *held_src = NULL;
    CHECK_STATUS(od_upload(c, NULL, "/held-job", "src.txt", CONTENT, sizeof CONTENT - 1, 0, NULL, NULL, NULL, &held_src),
                 OD_OK);
    job = NULL;
    CHECK_STATUS(od_copy(c, NULL, "/held-job/src.txt", "/", NULL, "held-copy.txt", 0, 0, &job), OD_OK);
    CHECK_STATUS(od_wait_job(c, job, 100, NULL, NULL, NULL, NULL), OD_ERR_TIMEOUT);
    struct progress_log stop = {0, 0, 0, 1};
    CHECK_STATUS(od_wait_job(c, job, 120000, on_progress, &stop, NULL, NULL), OD_ERR_ABORTED_BY_CALLBACK);
    CHECK(stop.calls == 1);
    struct cancel_when_running w;
    CHECK_STATUS(od_cancel_new(&w.cancel), OD_OK);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    w.progressed = 0;
    pthread_t th;
    pthread_create(&th, NULL, canceller, &w);
    CHECK_STATUS(od_wait_job(c, job, 120000, signal_progress, &w, w.cancel, NULL), OD_ERR_CANCELLED);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    od_cancel_free(w.cancel);
    /* and the job is still running: the hold worked, so the waits above were
       ended by the timeout, the callback and the cancel */
    st = OD_JOB_UNKNOWN;
    CHECK_STATUS(od_poll_job(c, job, &st, NULL), OD_OK);
    CHECK(st == OD_JOB_RUNNING);
    od_job_free(job);
    od_item_free(held_src);

    od_item_free(src);
    od_client_free(c);
}

static void test_url_upload(void) {
    od_client *c = new_client();
    od_job *job = NULL;
    CHECK_STATUS(od_url_upload(NULL, NULL, "/", "u.bin", source_url, &job), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_url_upload(c, BAD_UTF8, "/", "u.bin", source_url, &job), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_url_upload(c, NULL, NULL, "u.bin", source_url, &job), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_url_upload(c, NULL, BAD_UTF8, "u.bin", source_url, &job), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_url_upload(c, NULL, "/", NULL, source_url, &job), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_url_upload(c, NULL, "/", BAD_UTF8, source_url, &job), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_url_upload(c, NULL, "/", "u?.bin", source_url, &job), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_url_upload(c, NULL, "/", "u.bin", NULL, &job), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_url_upload(c, NULL, "/", "u.bin", BAD_UTF8, &job), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_url_upload(c, NULL, "/", "u.bin", "not a url", &job), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_url_upload(c, NULL, "/", "u.bin", source_url, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_url_upload(c, NULL, "/", "u.bin", source_url, &job), OD_OK);
    od_item *it = NULL;
    CHECK_STATUS(od_wait_job(c, job, 60000, NULL, NULL, NULL, &it), OD_OK);
    CHECK(it != NULL && strcmp(od_item_name(it), "u.bin") == 0 && od_item_size(it) > 0);
    od_item_free(it);
    od_job_free(job);
    od_client_free(c);
}

static int token_calls;

static int give_token(void *userdata, const od_client *client) {
    token_calls++;
    return od_client_set_token(client, (const char *)userdata) == OD_OK ? 0 : 1;
}

static int refuse_token(void *userdata, const od_client *client) {
    (void)userdata;
    (void)client;
    token_calls++;
    return 1;
}

static void test_token_callback(void) {
    od_client *c = NULL;
    CHECK_STATUS(od_client_new(base_url, "expired", 0, &c), OD_OK);
    if (ca_file[0] != 0) CHECK_STATUS(od_client_add_ca_file(c, ca_file), OD_OK);
    od_item *it = NULL;
    CHECK_STATUS(od_item_get(c, NULL, "/", &it), OD_ERR_UNAUTHORIZED);
    CHECK(od_last_error_http_status() == 401);
    CHECK_STATUS(od_client_set_token_callback(c, refuse_token, NULL), OD_OK);
    CHECK_STATUS(od_item_get(c, NULL, "/", &it), OD_ERR_UNAUTHORIZED);
    CHECK(token_calls == 1);
    CHECK_STATUS(od_client_set_token_callback(c, give_token, (void *)token), OD_OK);
    CHECK_STATUS(od_item_get(c, NULL, "/", &it), OD_OK);
    CHECK(token_calls == 2);
    od_item_free(it);
    it = NULL;
    /* a token that expires within the refresh margin is refreshed first */
    CHECK_STATUS(od_client_set_token_with_expiry(c, token, (int64_t)time(NULL) + 60), OD_OK);
    CHECK_STATUS(od_item_get(c, NULL, "/", &it), OD_OK);
    CHECK(token_calls == 3);
    od_item_free(it);
    od_client_free(c);
}

static void test_not_found_job(void) {
    od_client *c = new_client();
    char url[512];
    snprintf(url, sizeof url, "%s/monitor/unknown-job", monitor_origin);
    od_job *job = NULL;
    CHECK_STATUS(od_job_from_monitor_url(url, NULL, &job), OD_OK);
    od_job_state st;
    CHECK_STATUS(od_poll_job(c, job, &st, NULL), OD_ERR_NOT_FOUND);
    od_job_free(job);
    od_client_free(c);
}

/* --- large files: sessions -------------------------------------------- */

#define UNIT (320u * 1024u)

static char big_path[256];

static void make_file(size_t n) {
    snprintf(big_path, sizeof big_path, "/tmp/od-c-test-%ld.bin", (long)getpid());
    FILE *f = fopen(big_path, "wb");
    for (size_t i = 0; i < n; i++) fputc((int)((i * 31u) & 0xff), f);
    fclose(f);
}

struct reader {
    size_t pos, size;
    size_t fail_at; /* 0 = never */
};

static int64_t read_bytes(void *userdata, uint8_t *buf, size_t len) {
    struct reader *r = userdata;
    if (r->fail_at && r->pos >= r->fail_at) return -5;
    size_t n = r->size - r->pos < len ? r->size - r->pos : len;
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(((r->pos + i) * 31u) & 0xff);
    r->pos += n;
    return (int64_t)n;
}

struct cancel_at {
    od_cancel *cancel;
    uint64_t at;
    int calls;
};

static int cancel_progress(void *userdata, uint64_t done, uint64_t total) {
    struct cancel_at *c = userdata;
    (void)total;
    c->calls++;
    if (done >= c->at) od_cancel_trigger(c->cancel); /* as another thread would */
    return 0;
}

static void test_sessions(void) {
    od_client *c = new_client();
    size_t size = 5 * UNIT + 1234;
    make_file(size);

    CHECK_STATUS(od_client_set_upload_options(NULL, UNIT, UNIT, 0), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_upload_options(c, UNIT, UNIT + 1, 0), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_upload_options(c, UNIT, 0, 0), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_upload_options(c, UNIT, 60u * 1024u * 1024u, 0), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_upload_options(c, UNIT, UNIT, 4), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_upload_options(c, UNIT, UNIT, OD_HASH_SHA1 | OD_HASH_SHA256), OD_OK);

    /* od_upload_file: bad inputs, then a session upload with progress */
    od_item *it = NULL;
    CHECK_STATUS(od_upload_file(NULL, NULL, "/", "f.bin", big_path, 0, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload_file(c, BAD_UTF8, "/", "f.bin", big_path, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload_file(c, NULL, NULL, "f.bin", big_path, 0, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload_file(c, NULL, BAD_UTF8, "f.bin", big_path, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload_file(c, NULL, "/", BAD_UTF8, big_path, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload_file(c, NULL, "/", "f*.bin", big_path, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_upload_file(c, NULL, "/", "f.bin", NULL, 0, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload_file(c, NULL, "/", "f.bin", BAD_UTF8, 0, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload_file(c, NULL, "/", "f.bin", "/nonexistent/file", 0, NULL, NULL, NULL, &it), OD_ERR_IO);
    CHECK_STATUS(od_upload_file(c, NULL, "/", "f.bin", big_path, 5, NULL, NULL, NULL, &it), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_upload_file(c, NULL, "/", "f.bin", big_path, 0, NULL, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    struct progress_log p = {0, 0, 0, 0};
    CHECK_STATUS(od_upload_file(c, NULL, "/big", "f.bin", big_path, OD_CONFLICT_FAIL, on_progress, &p, NULL, &it),
                 OD_OK);
    CHECK(od_item_size(it) == (int64_t)size);
    CHECK(p.calls >= 6 && p.last_total == size); /* at the start and after each chunk but the last */
    od_item_free(it);
    it = NULL;

    /* one cancel mid-upload: no session stays behind (checked by the Rust tests) */
    struct cancel_at ca = {NULL, 2 * UNIT, 0};
    CHECK_STATUS(od_cancel_new(&ca.cancel), OD_OK);
    CHECK_STATUS(od_upload_file(c, NULL, "/big", "cancelled.bin", big_path, 0, cancel_progress, &ca, ca.cancel, &it),
                 OD_ERR_CANCELLED);
    CHECK(it == NULL && ca.calls >= 3);
    od_cancel_free(ca.cancel);
    od_item *gone = NULL;
    CHECK_STATUS(od_item_get(c, NULL, "/big/cancelled.bin", &gone), OD_ERR_NOT_FOUND);

    /* od_upload_stream: a read callback, one that fails, bad inputs */
    struct reader r = {0, size, 0};
    CHECK_STATUS(od_upload_stream(c, NULL, "/big", "s.bin", size, NULL, &r, 0, NULL, NULL, NULL, &it),
                 OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload_stream(NULL, NULL, "/big", "s.bin", size, read_bytes, &r, 0, NULL, NULL, NULL, &it),
                 OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload_stream(c, NULL, "/big", BAD_UTF8, size, read_bytes, &r, 0, NULL, NULL, NULL, &it),
                 OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload_stream(c, BAD_UTF8, "/big", "s.bin", size, read_bytes, &r, 0, NULL, NULL, NULL, &it),
                 OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload_stream(c, NULL, NULL, "s.bin", size, read_bytes, &r, 0, NULL, NULL, NULL, &it),
                 OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload_stream(c, NULL, BAD_UTF8, "s.bin", size, read_bytes, &r, 0, NULL, NULL, NULL, &it),
                 OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_upload_stream(c, NULL, "/big", "s.bin", size, read_bytes, &r, 9, NULL, NULL, NULL, &it),
                 OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_upload_stream(c, NULL, "/big", "s.bin", size, read_bytes, &r, 0, NULL, NULL, NULL, NULL),
                 OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_upload_stream(c, NULL, "/big", "s.bin", size, read_bytes, &r, 0, NULL, NULL, NULL, &it), OD_OK);
    CHECK(od_item_size(it) == (int64_t)size);
    od_item_free(it);
    it = NULL;
    struct reader failing = {0, size, 3 * UNIT};
    CHECK_STATUS(od_upload_stream(c, NULL, "/big", "t.bin", size, read_bytes, &failing, 0, NULL, NULL, NULL, &it),
                 OD_ERR_IO);

    /* an explicit session: saved as JSON, finished from the saved text */
    od_session *s = NULL;
    CHECK_STATUS(od_session_create(NULL, NULL, "/big", "saved.bin", size, 0, &s), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_create(c, BAD_UTF8, "/big", "saved.bin", size, 0, &s), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_session_create(c, NULL, NULL, "saved.bin", size, 0, &s), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_create(c, NULL, "/big", "a|b", size, 0, &s), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_session_create(c, NULL, BAD_UTF8, "saved.bin", size, 0, &s), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_session_create(c, NULL, "/big", BAD_UTF8, size, 0, &s), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_session_create(c, NULL, "/big", "saved.bin", size, -3, &s), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_session_create(c, NULL, "/big", "saved.bin", 0, 0, &s), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_session_create(c, NULL, "/big", "saved.bin", size, 0, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_create(c, NULL, "/big", "saved.bin", size, OD_CONFLICT_FAIL, &s), OD_OK);
    CHECK(od_session_size(s) == size && od_session_size(NULL) == 0);
    char *json = NULL;
    CHECK_STATUS(od_session_to_json(NULL, &json), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_to_json(s, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_to_json(s, &json), OD_OK);
    CHECK(json != NULL && strstr(json, "uploadUrl") != NULL);
    od_session_free(s);
    od_session *back = NULL;
    CHECK_STATUS(od_session_from_json(NULL, &back), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_from_json(BAD_UTF8, &back), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_session_from_json("{}", &back), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_session_from_json(json, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_from_json(json, &back), OD_OK);
    od_string_free(json);
    od_string_free(NULL);
    CHECK_STATUS(od_session_upload_file(NULL, back, big_path, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_upload_file(c, NULL, big_path, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_upload_file(c, back, NULL, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_upload_file(c, back, BAD_UTF8, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_session_upload_file(c, back, big_path, NULL, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    struct progress_log sp = {0, 0, 0, 0};
    CHECK_STATUS(od_session_upload_file(c, back, big_path, on_progress, &sp, NULL, &it), OD_OK);
    CHECK(od_item_size(it) == (int64_t)size && sp.calls >= 1);
    od_item_free(it);
    it = NULL;
    od_session_free(back);

    /* a session fed by a stream, and one cancelled on the service */
    CHECK_STATUS(od_session_create(c, NULL, "/big", "streamed.bin", size, 0, &s), OD_OK);
    struct reader r2 = {0, size, 0};
    CHECK_STATUS(od_session_upload_stream(NULL, s, read_bytes, &r2, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_upload_stream(c, NULL, read_bytes, &r2, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_upload_stream(c, s, NULL, &r2, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_upload_stream(c, s, read_bytes, &r2, NULL, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_upload_stream(c, s, read_bytes, &r2, NULL, NULL, NULL, &it), OD_OK);
    od_item_free(it);
    it = NULL;
    od_session_free(s);
    CHECK_STATUS(od_session_create(c, NULL, "/big", "dropped.bin", size, 0, &s), OD_OK);
    CHECK_STATUS(od_session_cancel(NULL, s), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_cancel(c, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_session_cancel(c, s), OD_OK);
    CHECK_STATUS(od_session_cancel(c, s), OD_OK); /* gone already: still OK */
    CHECK_STATUS(od_session_upload_file(c, s, big_path, NULL, NULL, NULL, &it), OD_OK); /* a new session */
    od_item_free(it);
    od_session_free(s);
    od_session_free(NULL);

    remove(big_path);
    od_client_free(c);
}

/* A file whose path is not ASCII. The C API takes UTF-8 paths everywhere;
   on Windows the library opens them by their UTF-16 name, so the file is
   made here through the wide API, not fopen (which takes the ANSI code page). */
static void test_non_ascii_path(void) {
    static const char name[] = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x84.txt"; /* café 日本 📄 */
    static const char text[] = "a file with a non-ASCII name\n";
    char path[512];
    snprintf(path, sizeof path, "/tmp/od-c-test-%ld-%s", (long)getpid(), name);
#ifdef _WIN32
    wchar_t wpath[512];
    CHECK(MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wpath, 512) > 0);
    FILE *f = _wfopen(wpath, L"wb");
#else
    FILE *f = fopen(path, "wb");
#endif
    CHECK(f != NULL);
    if (f == NULL) return;
    CHECK(fwrite(text, 1, strlen(text), f) == strlen(text));
    fclose(f);

    od_client *c = new_client();
    od_item *it = NULL;
    CHECK_STATUS(od_upload_file(c, NULL, "/", name, path, OD_CONFLICT_REPLACE, NULL, NULL, NULL, &it), OD_OK);
    CHECK(it != NULL && strcmp(od_item_name(it), name) == 0 && od_item_size(it) == (int64_t)strlen(text));
    od_item_free(it);
    it = NULL;
    /* the same name with one letter changed does not exist: an I/O error naming it */
    char missing[sizeof path + 16];
    snprintf(missing, sizeof missing, "%s.missing", path);
    CHECK_STATUS(od_upload_file(c, NULL, "/", "m.txt", missing, 0, NULL, NULL, NULL, &it), OD_ERR_IO);
    char msg[1024] = "";
    od_last_error_string(OD_ERROR_MESSAGE, msg, sizeof msg, NULL);
    CHECK(strstr(msg, name) != NULL);
    od_client_free(c);
#ifdef _WIN32
    CHECK(_wremove(wpath) == 0);
#else
    CHECK(remove(path) == 0);
#endif
}

static void test_folders_and_delete(void) {
    od_client *c = new_client();
    od_item *f = NULL, *file = NULL;

    /* bad inputs, one per argument */
    CHECK_STATUS(od_folder_create(NULL, NULL, "/", "F", 0, 0, NULL, &f), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_folder_create(c, BAD_UTF8, "/", "F", 0, 0, NULL, &f), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_folder_create(c, NULL, NULL, "F", 0, 0, NULL, &f), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_folder_create(c, NULL, BAD_UTF8, "F", 0, 0, NULL, &f), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_folder_create(c, NULL, "/", NULL, 0, 0, NULL, &f), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_folder_create(c, NULL, "/", BAD_UTF8, 0, 0, NULL, &f), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_folder_create(c, NULL, "/", "a|b", 0, 0, NULL, &f), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_folder_create(c, NULL, "/", "..", 0, 0, NULL, &f), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_folder_create(c, NULL, "/", "F", 9, 0, NULL, &f), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_folder_create(c, NULL, "/", "F", 0, 2, NULL, &f), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_folder_create(c, NULL, "/", "F", 0, 0, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK(f == NULL);
    CHECK_STATUS(od_item_delete(NULL, NULL, "/x", NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_item_delete(c, BAD_UTF8, "/x", NULL, NULL), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_delete(c, NULL, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_item_delete(c, NULL, BAD_UTF8, NULL, NULL), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_delete(c, NULL, "/", NULL, NULL), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_item_delete(c, NULL, "/x", BAD_UTF8, NULL), OD_ERR_INVALID_UTF8);

    /* a folder, a name in use, mkdir -p */
    CHECK_STATUS(od_folder_create(c, NULL, "/", "Made", OD_CONFLICT_FAIL, 0, NULL, &f), OD_OK);
    CHECK(f != NULL && od_item_is_folder(f) && strcmp(od_item_name(f), "Made") == 0);
    od_item_free(f);
    f = NULL;
    CHECK_STATUS(od_folder_create(c, NULL, "/", "Made", OD_CONFLICT_FAIL, 0, NULL, &f), OD_ERR_CONFLICT);
    CHECK_STATUS(od_folder_create(c, NULL, "/Made/a/b", "c", 0, 0, NULL, &f), OD_ERR_NOT_FOUND);
    CHECK_STATUS(od_folder_create(c, NULL, "/Made/a/b", "c", 0, OD_FOLDER_PARENTS, NULL, &f), OD_OK);
    od_item_free(f);
    f = NULL;

    /* delete: a stale eTag is refused, the right one deletes, then 404 */
    CHECK_STATUS(od_upload(c, NULL, "/Made", "gone.txt", CONTENT, 5, 0, NULL, NULL, NULL, &file), OD_OK);
    CHECK_STATUS(od_item_delete(c, NULL, "/Made/gone.txt", "\"stale\"", NULL), OD_ERR_CONFLICT);
    CHECK_STATUS(od_item_delete(c, NULL, "/Made/gone.txt", od_item_etag(file), NULL), OD_OK);
    CHECK_STATUS(od_item_delete(c, NULL, "/Made/gone.txt", NULL, NULL), OD_ERR_NOT_FOUND);
    CHECK_STATUS(od_item_delete(c, NULL, "/Made", NULL, NULL), OD_OK);
    CHECK_STATUS(od_item_get(c, NULL, "/Made/a", &f), OD_ERR_NOT_FOUND);
    od_item_free(file);
    od_client_free(c);
}

/* Listing: bad inputs, a folder's children in pages of 2, the end given as
 * OD_OK with NULL (and again after it), a missing folder at the first next. */
static void test_listing(void) {
    od_client *c = new_client();
    od_listing *l = NULL;
    od_item *it = NULL;

    CHECK_STATUS(od_list_open(NULL, NULL, "/", 0, &l), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_list_open(c, BAD_UTF8, "/", 0, &l), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_list_open(c, "/nope", "/", 0, &l), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_list_open(c, NULL, NULL, 0, &l), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_list_open(c, NULL, BAD_UTF8, 0, &l), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_list_open(c, NULL, "/", 0, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK(l == NULL);
    CHECK_STATUS(od_list_next(NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    od_list_free(NULL);

    const char *names[] = {"a b.txt", "#1.txt", "100%.txt", "\xc3\xa9t\xc3\xa9.txt", "e.txt"};
    for (int i = 0; i < 5; i++) {
        CHECK_STATUS(od_upload(c, NULL, "/Listed", names[i], CONTENT, 5, 0, NULL, NULL, NULL, &it), OD_OK);
        od_item_free(it);
        it = NULL;
    }
    CHECK_STATUS(od_folder_create(c, NULL, "/Listed", "sub", 0, 0, NULL, &it), OD_OK);
    od_item_free(it);
    it = NULL;

    CHECK_STATUS(od_list_open(c, NULL, "/Listed", 2, &l), OD_OK);
    CHECK_STATUS(od_list_next(l, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    int files = 0, folders = 0, named = 0;
    for (;;) {
        it = NULL;
        od_status s = od_list_next(l, NULL, &it);
        CHECK_STATUS(s, OD_OK);
        if (s != OD_OK || it == NULL) break;
        if (od_item_is_folder(it)) {
            folders++;
            CHECK(od_item_child_count(it) == 0);
        } else {
            files++;
            CHECK(od_item_size(it) == 5 && od_item_child_count(it) == -1);
        }
        CHECK(od_item_last_modified(it) != NULL && strlen(od_item_last_modified(it)) >= 20);
        for (int i = 0; i < 5; i++) named += strcmp(od_item_name(it), names[i]) == 0;
        od_item_free(it);
    }
    CHECK(files == 5 && folders == 1 && named == 5);
    it = (od_item *)1;
    CHECK_STATUS(od_list_next(l, NULL, &it), OD_OK);
    CHECK(it == NULL);
    od_list_free(l);
    CHECK(od_item_last_modified(NULL) == NULL && od_item_child_count(NULL) == -1);

    /* a missing folder shows at the first next, then the listing is over */
    l = NULL;
    CHECK_STATUS(od_list_open(c, NULL, "/No such folder", 0, &l), OD_OK);
    CHECK_STATUS(od_list_next(l, NULL, &it), OD_ERR_NOT_FOUND);
    CHECK_STATUS(od_list_next(l, NULL, &it), OD_OK);
    CHECK(it == NULL);
    od_list_free(l);
    od_client_free(c);
}

/* Move and rename: bad inputs, a rename, a move by path and by id, a name
 * in use, a stale eTag, another drive, a folder into its own subtree. */
static void test_move(void) {
    od_client *c = new_client();
    od_item *f = NULL, *m = NULL, *dir = NULL;

    CHECK_STATUS(od_item_move(NULL, NULL, "/x", "/", NULL, NULL, 0, NULL, NULL, &m), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_item_move(c, BAD_UTF8, "/x", "/", NULL, NULL, 0, NULL, NULL, &m), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_move(c, NULL, NULL, "/", NULL, NULL, 0, NULL, NULL, &m), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_item_move(c, NULL, BAD_UTF8, "/", NULL, NULL, 0, NULL, NULL, &m), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_move(c, NULL, "/x", BAD_UTF8, NULL, NULL, 0, NULL, NULL, &m), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_move(c, NULL, "/x", "/", BAD_UTF8, NULL, 0, NULL, NULL, &m), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_move(c, NULL, "/x", NULL, NULL, BAD_UTF8, 0, NULL, NULL, &m), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_move(c, NULL, "/x", NULL, NULL, "a|b", 0, NULL, NULL, &m), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_item_move(c, NULL, "/x", "/", NULL, NULL, 9, NULL, NULL, &m), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_item_move(c, NULL, "/x", "/", NULL, NULL, 0, BAD_UTF8, NULL, &m), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_item_move(c, NULL, "/x", NULL, NULL, NULL, 0, NULL, NULL, &m), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_item_move(c, NULL, "/", NULL, NULL, "r", 0, NULL, NULL, &m), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_item_move(c, NULL, "/x", "/", "other-drive", NULL, 0, NULL, NULL, &m), OD_ERR_NOT_SUPPORTED);
    CHECK_STATUS(od_item_move(c, NULL, "/x", "/", NULL, NULL, 0, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK(m == NULL);

    CHECK_STATUS(od_upload(c, NULL, "/Moves", "a #1.txt", CONTENT, 5, 0, NULL, NULL, NULL, &f), OD_OK);
    CHECK_STATUS(od_folder_create(c, NULL, "/Moves", "d\xc3\xa9st 100%", 0, 0, NULL, &dir), OD_OK);
    /* rename in place */
    CHECK_STATUS(od_item_move(c, NULL, "/Moves/a #1.txt", NULL, NULL, "b #2.txt", OD_CONFLICT_FAIL, NULL, NULL, &m), OD_OK);
    CHECK(m != NULL && strcmp(od_item_name(m), "b #2.txt") == 0 && strcmp(od_item_id(m), od_item_id(f)) == 0);
    /* a stale eTag is refused; the item's own moves it (by id, into a folder by id) */
    CHECK_STATUS(od_item_move(c, NULL, od_item_id(f), od_item_id(dir), NULL, NULL, 0, "\"stale\"", NULL, &m), OD_ERR_CONFLICT);
    od_item *moved = NULL;
    CHECK_STATUS(od_item_move(c, NULL, od_item_id(f), od_item_id(dir), NULL, NULL, 0, od_item_etag(m), NULL, &moved), OD_OK);
    CHECK(moved != NULL && strcmp(od_item_parent_id(moved), od_item_id(dir)) == 0);
    od_item_free(moved);
    moved = NULL;
    /* a name in use with fail */
    CHECK_STATUS(od_upload(c, NULL, "/Moves", "b #2.txt", CONTENT, 5, 0, NULL, NULL, NULL, &moved), OD_OK);
    od_item_free(moved);
    moved = NULL;
    CHECK_STATUS(od_item_move(c, NULL, "/Moves/b #2.txt", "/Moves/d\xc3\xa9st 100%", NULL, NULL, OD_CONFLICT_FAIL, NULL, NULL, &moved), OD_ERR_CONFLICT);
    CHECK(moved == NULL);
    /* a folder into its own subtree */
    CHECK_STATUS(od_item_move(c, NULL, "/Moves", od_item_id(dir), NULL, NULL, 0, NULL, NULL, &moved), OD_ERR_BAD_REQUEST);
    od_item_free(m);
    od_item_free(f);
    od_item_free(dir);
    od_client_free(c);
}

/* Downloads: bad inputs, a file (the temporary file gone once it is in
 * place), a write callback, a stop from either callback, a folder, the
 * download rate cap's setter. */
struct sink {
    uint8_t *data;
    size_t len, cap;
    int stop_after; /* 0 = never */
    int calls;
};

static int on_write(void *userdata, const uint8_t *data, size_t len) {
    struct sink *s = userdata;
    s->calls++;
    if (s->stop_after > 0 && s->calls >= s->stop_after) return 1;
    if (s->len + len > s->cap) {
        s->cap = (s->len + len) * 2;
        s->data = realloc(s->data, s->cap);
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return 0;
}

static int file_equals(const char *path, const uint8_t *want, size_t n) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return 0;
    int same = 1;
    for (size_t i = 0; i < n && same; i++) same = fgetc(f) == want[i];
    same = same && fgetc(f) == EOF;
    fclose(f);
    return same;
}

/* A new directory for a test's files, from a template ending in XXXXXX:
 * mkdtemp, which mingw lacks; there the process id and a counter. */
static char *temp_dir(char *tmpl) {
#ifdef _WIN32
    static int made;
    size_t len = strlen(tmpl);
    snprintf(tmpl + len - 6, 7, "%03d%03d", (int)(getpid() % 1000), made++ % 1000);
    return _mkdir(tmpl) == 0 ? tmpl : NULL;
#else
    return mkdtemp(tmpl);
#endif
}

static void test_download(void) {
    od_client *c = new_client();
    od_item *it = NULL;
    struct sink s = {0};
    char dir[] = "/tmp/od-c-dl-XXXXXX";
    CHECK(temp_dir(dir) != NULL);
    char local[256], temp[256];
#ifdef _WIN32
    /* This test's own checks (fopen, access) take ANSI names on Windows;
     * the library's UTF-8 paths there are test_non_ascii_path's. */
    snprintf(local, sizeof local, "%s/d #1 e.bin", dir);
    snprintf(temp, sizeof temp, "%s/.d #1 e.bin.odpart", dir);
#else
    snprintf(local, sizeof local, "%s/d #1 \xc3\xa9.bin", dir);
    snprintf(temp, sizeof temp, "%s/.d #1 \xc3\xa9.bin.odpart", dir);
#endif

    CHECK_STATUS(od_download_file(NULL, NULL, "/x", local, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_download_file(c, BAD_UTF8, "/x", local, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_download_file(c, NULL, NULL, local, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_download_file(c, NULL, BAD_UTF8, local, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_download_file(c, NULL, "/x", NULL, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_download_file(c, NULL, "/x", BAD_UTF8, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_download_stream(NULL, NULL, "/x", on_write, &s, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_download_stream(c, BAD_UTF8, "/x", on_write, &s, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_download_stream(c, NULL, NULL, on_write, &s, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_download_stream(c, NULL, BAD_UTF8, on_write, &s, NULL, NULL, NULL, &it), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_download_stream(c, NULL, "/x", NULL, &s, NULL, NULL, NULL, &it), OD_ERR_NULL_ARGUMENT);
    CHECK(it == NULL);
    CHECK_STATUS(od_client_set_download_rate(NULL, 0), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_download_rate(c, 0), OD_OK);

    size_t n = 200000;
    uint8_t *body = malloc(n);
    for (size_t i = 0; i < n; i++) body[i] = (uint8_t)((i * 7u + i / 251u) & 0xff);
    od_item *up = NULL;
    CHECK_STATUS(od_upload(c, NULL, "/Down 100%", "f #1 \xc3\xa9.bin", body, n, 0, NULL, NULL, NULL, &up), OD_OK);

    /* to a file, the item not wanted, then wanted */
    struct progress_log p = {0};
    CHECK_STATUS(od_download_file(c, NULL, "/Down 100%/f #1 \xc3\xa9.bin", local, on_progress, &p, NULL, NULL), OD_OK);
    CHECK(file_equals(local, body, n));
    CHECK(access(temp, F_OK) != 0);
    CHECK(p.calls >= 4 && p.last_done == n && p.last_total == n);
    CHECK_STATUS(od_download_file(c, NULL, od_item_id(up), local, NULL, NULL, NULL, &it), OD_OK);
    CHECK(it != NULL && strcmp(od_item_id(it), od_item_id(up)) == 0 && od_item_size(it) == (int64_t)n);
    od_item_free(it);
    it = NULL;

    /* a progress callback that stops: no file under the target's name */
    unlink(local);
    struct progress_log stop = {.stop_after = 2};
    CHECK_STATUS(od_download_file(c, NULL, od_item_id(up), local, on_progress, &stop, NULL, &it), OD_ERR_ABORTED_BY_CALLBACK);
    CHECK(it == NULL && access(local, F_OK) != 0 && access(temp, F_OK) == 0);
    /* the next call resumes from the temporary file */
    struct progress_log resumed = {0};
    CHECK_STATUS(od_download_file(c, NULL, od_item_id(up), local, on_progress, &resumed, NULL, NULL), OD_OK);
    CHECK(file_equals(local, body, n) && access(temp, F_OK) != 0);

    /* to a write callback */
    CHECK_STATUS(od_download_stream(c, NULL, "/Down 100%/f #1 \xc3\xa9.bin", on_write, &s, NULL, NULL, NULL, &it), OD_OK);
    CHECK(s.len == n && memcmp(s.data, body, n) == 0);
    od_item_free(it);
    it = NULL;
    struct sink stopper = {.stop_after = 2};
    CHECK_STATUS(od_download_stream(c, NULL, od_item_id(up), on_write, &stopper, NULL, NULL, NULL, &it), OD_ERR_ABORTED_BY_CALLBACK);
    CHECK(it == NULL);

    /* not a file, not there */
    CHECK_STATUS(od_download_file(c, NULL, "/Down 100%", local, NULL, NULL, NULL, &it), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_download_stream(c, NULL, "/Down 100%/none", on_write, &s, NULL, NULL, NULL, &it), OD_ERR_NOT_FOUND);

    unlink(local);
    rmdir(dir);
    free(s.data);
    free(stopper.data);
    free(body);
    od_item_free(up);
    od_client_free(c);
}

struct log_capture {
    int lines, leaked, debug;
    char last[512];
};

static void on_log(void *userdata, int32_t level, const char *message) {
    struct log_capture *cap = userdata;
    cap->lines++;
    if (level == OD_LOG_DEBUG) cap->debug++;
    if (strstr(message, token) != NULL || strchr(message, '?') != NULL) cap->leaked++;
    snprintf(cap->last, sizeof cap->last, "%s", message);
}

static void test_network_settings(void) {
    od_client *c = new_client();
    od_item *it = NULL;
    struct log_capture cap = {0};

    /* trust: bad PEM, a missing file, NULLs */
    CHECK_STATUS(od_client_add_ca_pem(NULL, NULL, 0), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_add_ca_pem(c, NULL, 5), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_add_ca_pem(c, NULL, 0), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_add_ca_pem(c, (const uint8_t *)"hello", 5), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_add_ca_file(c, "/nonexistent/ca.pem"), OD_ERR_IO);
    CHECK_STATUS(od_client_add_ca_file(c, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_add_ca_file(c, BAD_UTF8), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_client_add_ca_file(NULL, "/x"), OD_ERR_NULL_ARGUMENT);

    /* proxy: a bad scheme, NULL clears */
    CHECK_STATUS(od_client_set_proxy(c, "ftp://user:pw@h:1"), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_proxy(c, BAD_UTF8), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_client_set_proxy(NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_proxy(c, NULL), OD_OK);

    /* rate cap */
    CHECK_STATUS(od_client_set_upload_rate(NULL, 0), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_upload_rate(c, UINT64_MAX), OD_OK);
    CHECK_STATUS(od_client_set_upload_rate(c, 0), OD_OK);

    /* log: levels checked, lines arrive, no secret in them, removal */
    CHECK_STATUS(od_client_set_log_callback(c, 0, on_log, &cap), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_log_callback(c, 5, on_log, &cap), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_client_set_log_callback(NULL, OD_LOG_INFO, on_log, &cap), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_client_set_log_callback(c, OD_LOG_DEBUG, on_log, &cap), OD_OK);
    CHECK_STATUS(od_upload(c, NULL, "/", "logged.txt", CONTENT, 5, OD_CONFLICT_REPLACE, NULL, NULL, NULL, &it), OD_OK);
    CHECK(cap.lines >= 1 && cap.leaked == 0);
    CHECK(strncmp(cap.last, "PUT ", 4) == 0 && strstr(cap.last, "logged.txt") != NULL && strstr(cap.last, "-> 20") != NULL);
    od_item_free(it);
    it = NULL;
    CHECK_STATUS(od_item_get(c, NULL, "/no-such-file", &it), OD_ERR_NOT_FOUND);
    CHECK(strstr(cap.last, "-> 404") != NULL);
    CHECK_STATUS(od_client_set_log_callback(c, 0, NULL, NULL), OD_OK); /* level ignored when removing */
    int before = cap.lines;
    CHECK_STATUS(od_item_get(c, NULL, "/logged.txt", &it), OD_OK);
    CHECK(cap.lines == before);
    od_item_free(it);
    it = NULL;

    /* a proxy nobody listens on: a network error, one attempt */
    CHECK_STATUS(od_client_set_retry(c, 1, 0), OD_OK);
    CHECK_STATUS(od_client_set_proxy(c, "http://127.0.0.1:1"), OD_OK);
    CHECK_STATUS(od_item_get(c, NULL, "/logged.txt", &it), OD_ERR_NETWORK);
    CHECK(it == NULL);
    CHECK_STATUS(od_client_set_proxy(c, NULL), OD_OK);
    CHECK_STATUS(od_item_get(c, NULL, "/logged.txt", &it), OD_OK);
    od_item_free(it);
    od_client_free(c);
}

/* --- the transfer queue ------------------------------------------------ */

struct queue_seen {
    od_queue *q;
    int events, states, close_refused;
};

static void on_queue_event(void *userdata, uint64_t id, int32_t kind, int32_t state,
                           uint64_t done, uint64_t total) {
    struct queue_seen *seen = userdata;
    (void)done;
    (void)total;
    seen->events++;
    if (kind == OD_QUEUE_EVENT_STATE) {
        seen->states++;
        CHECK(state >= OD_TRANSFER_QUEUED && state <= OD_TRANSFER_CANCELLED);
        /* allowed inside the callback: reads; refused: close */
        od_transfer *t = NULL;
        CHECK_STATUS(od_queue_get(seen->q, id, &t), OD_OK);
        od_transfer_free(t);
        if (od_queue_close(seen->q) == OD_ERR_INVALID_STATE) seen->close_refused++;
    }
}

static void test_queue(void) {
    od_client *c = new_client();
    char dir[256], path[256];
    snprintf(dir, sizeof dir, "/tmp/od-c-queue-%ld", (long)getpid());
    snprintf(path, sizeof path, "/tmp/od-c-queue-%ld.txt", (long)getpid());
    FILE *f = fopen(path, "wb");
    fputs("queued from C", f);
    fclose(f);
    od_queue *q = NULL;
    CHECK_STATUS(od_queue_open(NULL, dir, 2, 0, &q), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_open(c, NULL, 2, 0, &q), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_open(c, BAD_UTF8, 2, 0, &q), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_queue_open(c, dir, 0, 0, &q), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_queue_open(c, dir, 2, 0x100, &q), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_queue_open(c, dir, 2, 0, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_open(c, dir, 2, OD_QUEUE_START_OFFLINE, &q), OD_OK);
    od_queue *again = NULL;
    CHECK_STATUS(od_queue_open(c, dir, 2, 0, &again), OD_ERR_INVALID_STATE);
    CHECK(again == NULL);
    od_client_free(c); /* the queue keeps its own reference */

    struct queue_seen seen = {q, 0, 0, 0};
    CHECK_STATUS(od_queue_set_event_callback(NULL, on_queue_event, &seen), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_set_event_callback(q, on_queue_event, &seen), OD_OK);

    uint64_t up = 0, imp = 0, cp = 0, bad = 77;
    CHECK_STATUS(od_queue_enqueue_upload(NULL, path, NULL, "/", "q.txt", OD_CONFLICT_FAIL, &up), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_upload(q, NULL, NULL, "/", "q.txt", OD_CONFLICT_FAIL, &up), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_upload(q, BAD_UTF8, NULL, "/", "q.txt", OD_CONFLICT_FAIL, &up), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_queue_enqueue_upload(q, path, BAD_UTF8, "/", "q.txt", OD_CONFLICT_FAIL, &up), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_queue_enqueue_upload(q, path, NULL, NULL, "q.txt", OD_CONFLICT_FAIL, &up), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_upload(q, path, NULL, "/", NULL, OD_CONFLICT_FAIL, &up), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_upload(q, path, NULL, "/", "q?.txt", OD_CONFLICT_FAIL, &up), OD_ERR_INVALID_NAME);
    CHECK_STATUS(od_queue_enqueue_upload(q, path, NULL, "/", "q.txt", 42, &up), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_upload(q, "/no/such/file", NULL, "/", "q.txt", OD_CONFLICT_FAIL, &bad), OD_ERR_IO);
    CHECK(bad == 77);
    CHECK_STATUS(od_queue_enqueue_upload(q, path, NULL, "/", "q.txt", OD_CONFLICT_FAIL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_upload(q, path, NULL, "/", "q.txt", OD_CONFLICT_FAIL, &up), OD_OK);
    CHECK_STATUS(od_queue_enqueue_url_upload(q, NULL, NULL, "/", "qu.bin", &imp), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_url_upload(q, source_url, NULL, "/", BAD_UTF8, &imp), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_queue_enqueue_url_upload(q, "not a url", NULL, "/", "qu.bin", &imp), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_url_upload(q, source_url, NULL, "/", "qu.bin", &imp), OD_OK);
    CHECK_STATUS(od_queue_enqueue_copy(q, NULL, NULL, "/", NULL, "qc.bin", OD_CONFLICT_FAIL, &cp), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_copy(q, NULL, "/u.bin", "/", BAD_UTF8, "qc.bin", OD_CONFLICT_FAIL, &cp), OD_ERR_INVALID_UTF8);
    CHECK_STATUS(od_queue_enqueue_copy(q, NULL, "/u.bin", "/", NULL, "qc.bin", -1, &cp), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_copy(q, NULL, "/u.bin", "/", NULL, "qc.bin", OD_CONFLICT_FAIL, &cp), OD_OK);
    CHECK(up >= 1 && imp == up + 1 && cp == up + 2);

    /* offline: waiting, not idle */
    od_transfer *t = NULL;
    CHECK_STATUS(od_queue_get(q, up, &t), OD_OK);
    CHECK(od_transfer_get_state(t) == OD_TRANSFER_WAITING);
    CHECK(od_transfer_wait_reason(t) == OD_WAIT_OFFLINE);
    CHECK(od_transfer_get_kind(t) == OD_TRANSFER_UPLOAD);
    CHECK(od_transfer_total(t) == 13 && od_transfer_done(t) == 0);
    CHECK(strcmp(od_transfer_name(t), "q.txt") == 0);
    CHECK(od_transfer_item_json(t) == NULL && od_transfer_error_status(t) == OD_OK);
    CHECK(od_transfer_retry_at_ms(t) == -1);
    od_transfer_free(t);
    CHECK_STATUS(od_queue_get(q, 9999, &t), OD_ERR_NOT_FOUND);
    CHECK_STATUS(od_queue_get(NULL, up, &t), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_get(q, up, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_wait_idle(q, 0, NULL), OD_ERR_TIMEOUT);
    CHECK_STATUS(od_queue_wait_idle(NULL, 0, NULL), OD_ERR_NULL_ARGUMENT);

    /* pause, resume, cancel */
    CHECK_STATUS(od_queue_pause(q, up), OD_OK);
    CHECK_STATUS(od_queue_pause(q, 9999), OD_ERR_NOT_FOUND);
    CHECK_STATUS(od_queue_pause(NULL, up), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_resume(q, up), OD_OK);
    CHECK_STATUS(od_queue_resume(NULL, up), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_pause_all(q), OD_OK);
    CHECK_STATUS(od_queue_resume_all(q), OD_OK);
    CHECK_STATUS(od_queue_pause_all(NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_resume_all(NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_cancel(q, cp), OD_OK);
    CHECK_STATUS(od_queue_cancel(NULL, cp), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_resume(q, cp), OD_ERR_INVALID_STATE);
    CHECK_STATUS(od_queue_set_max_running(q, 0), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_queue_set_max_running(NULL, 1), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_set_max_running(q, 4), OD_OK);
    CHECK_STATUS(od_queue_set_online(NULL, 1), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_set_online(q, 1), OD_OK);
    od_cancel *cancel = NULL;
    CHECK_STATUS(od_cancel_new(&cancel), OD_OK);
    CHECK_STATUS(od_queue_wait_idle(q, 60000, cancel), OD_OK);
    od_cancel_free(cancel);
    CHECK_STATUS(od_queue_remove(q, up + 100), OD_ERR_NOT_FOUND);

    CHECK_STATUS(od_queue_get(q, up, &t), OD_OK);
    CHECK(od_transfer_get_state(t) == OD_TRANSFER_COMPLETED);
    CHECK(od_transfer_id(t) == up && od_transfer_done(t) == 13);
    CHECK(od_transfer_item_json(t) != NULL && strstr(od_transfer_item_json(t), "\"q.txt\"") != NULL);
    od_transfer_free(t);
    CHECK_STATUS(od_queue_get(q, imp, &t), OD_OK);
    CHECK(od_transfer_get_state(t) == OD_TRANSFER_COMPLETED && od_transfer_get_kind(t) == OD_TRANSFER_URL_UPLOAD);
    od_transfer_free(t);
    CHECK_STATUS(od_queue_get(q, cp, &t), OD_OK);
    CHECK(od_transfer_get_state(t) == OD_TRANSFER_CANCELLED && od_transfer_get_kind(t) == OD_TRANSFER_COPY);
    od_transfer_free(t);

    /* a permanent error: the name is taken (by another file: the same
       bytes would count as this upload, done by an earlier try) */
    f = fopen(path, "wb");
    fputs("another file", f);
    fclose(f);
    uint64_t dup = 0;
    CHECK_STATUS(od_queue_enqueue_upload(q, path, NULL, "/", "q.txt", OD_CONFLICT_FAIL, &dup), OD_OK);
    CHECK_STATUS(od_queue_wait_idle(q, -1, NULL), OD_OK);
    CHECK_STATUS(od_queue_get(q, dup, &t), OD_OK);
    CHECK(od_transfer_get_state(t) == OD_TRANSFER_FAILED);
    CHECK(od_transfer_error_status(t) == OD_ERR_CONFLICT);
    CHECK(od_transfer_error_http_status(t) == 409);
    CHECK(od_transfer_error_code(t) != NULL && od_transfer_error_message(t) != NULL);
    CHECK(od_transfer_error_request_id(t) != NULL);
    (void)od_transfer_error_inner_code(t);
    CHECK_STATUS(od_queue_cancel(q, dup), OD_ERR_INVALID_STATE);
    od_transfer_free(t);
    CHECK(od_transfer_id(NULL) == 0 && od_transfer_name(NULL) == NULL);
    CHECK(od_transfer_get_state(NULL) == OD_TRANSFER_FAILED && od_transfer_get_kind(NULL) == OD_TRANSFER_UPLOAD);
    CHECK(od_transfer_wait_reason(NULL) == OD_WAIT_NONE && od_transfer_retry_at_ms(NULL) == -1);
    CHECK(od_transfer_done(NULL) == 0 && od_transfer_total(NULL) == 0);
    CHECK(od_transfer_item_json(NULL) == NULL && od_transfer_error_status(NULL) == OD_OK);
    CHECK(od_transfer_error_http_status(NULL) == 0 && od_transfer_error_code(NULL) == NULL);
    CHECK(od_transfer_error_inner_code(NULL) == NULL && od_transfer_error_message(NULL) == NULL);
    CHECK(od_transfer_error_request_id(NULL) == NULL);
    od_transfer_free(NULL);

    /* lists and totals */
    od_transfer_list *list = NULL;
    CHECK_STATUS(od_queue_list(q, 1u << OD_TRANSFER_COMPLETED, &list), OD_OK);
    CHECK(od_transfer_list_count(list) == 2);
    CHECK(od_transfer_id(od_transfer_list_get(list, 0)) == up);
    CHECK(od_transfer_list_get(list, 2) == NULL);
    od_transfer_list_free(list);
    CHECK_STATUS(od_queue_list(q, 0x80, &list), OD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(od_queue_list(NULL, 0x7f, &list), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_list(q, 0x7f, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK(od_transfer_list_count(NULL) == 0 && od_transfer_list_get(NULL, 0) == NULL);
    od_transfer_list_free(NULL);
    uint64_t files = 0, completed = 0, failedn = 0, cancelled = 0, done = 0, total = 0;
    CHECK_STATUS(od_queue_totals(q, &files, &completed, &failedn, &cancelled, &done, &total), OD_OK);
    CHECK(files == 4 && completed == 2 && failedn == 1 && cancelled == 1);
    CHECK(done == 13 && total == 13);
    CHECK_STATUS(od_queue_totals(q, NULL, NULL, NULL, NULL, NULL, NULL), OD_OK);
    CHECK_STATUS(od_queue_totals(NULL, &files, NULL, NULL, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);

    /* events: polled (the first is the upload's first state), then none */
    uint64_t ev_id = 0, ev_done = 0, ev_total = 0;
    int32_t ev_kind = -1, ev_state = -1;
    CHECK_STATUS(od_queue_next_event(q, 0, &ev_id, &ev_kind, &ev_state, &ev_done, &ev_total), OD_OK);
    CHECK(ev_id == up && ev_kind == OD_QUEUE_EVENT_STATE && ev_state == OD_TRANSFER_WAITING);
    while (od_queue_next_event(q, 0, NULL, NULL, NULL, NULL, NULL) == OD_OK) {
    }
    CHECK_STATUS(od_queue_next_event(q, 10, &ev_id, &ev_kind, &ev_state, &ev_done, &ev_total), OD_ERR_TIMEOUT);
    CHECK_STATUS(od_queue_next_event(NULL, 0, NULL, NULL, NULL, NULL, NULL), OD_ERR_NULL_ARGUMENT);
    /* the callback saw the same, and close was refused inside it */
    CHECK_STATUS(od_queue_set_event_callback(q, NULL, NULL), OD_OK);
    CHECK(seen.states >= 8 && seen.close_refused == seen.states);

    /* removing */
    CHECK_STATUS(od_queue_remove(q, up), OD_OK);
    CHECK_STATUS(od_queue_remove(NULL, up), OD_ERR_NULL_ARGUMENT);
    uint64_t removed = 0;
    CHECK_STATUS(od_queue_remove_finished(q, &removed), OD_OK);
    CHECK(removed == 3);
    CHECK_STATUS(od_queue_remove_finished(q, NULL), OD_OK);
    CHECK_STATUS(od_queue_remove_finished(NULL, NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_cancel_all(q), OD_OK);
    CHECK_STATUS(od_queue_cancel_all(NULL), OD_ERR_NULL_ARGUMENT);

    /* closed: read-only; the directory opens again */
    CHECK_STATUS(od_queue_close(q), OD_OK);
    CHECK_STATUS(od_queue_close(q), OD_OK);
    CHECK_STATUS(od_queue_close(NULL), OD_ERR_NULL_ARGUMENT);
    CHECK_STATUS(od_queue_enqueue_upload(q, path, NULL, "/", "z.txt", OD_CONFLICT_FAIL, &dup), OD_ERR_INVALID_STATE);
    CHECK_STATUS(od_queue_totals(q, &files, NULL, NULL, NULL, NULL, NULL), OD_OK);
    CHECK(files == 0);
    od_queue_free(q);
    od_queue_free(NULL);
    c = new_client();
    CHECK_STATUS(od_queue_open(c, dir, 1, 0, &q), OD_OK);
    od_queue_free(q);
    od_client_free(c);
    remove(path);
    char lock[300];
    const char *names[] = {"journal", "snapshot", "lock"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(lock, sizeof lock, "%s/%s", dir, names[i]);
        remove(lock);
    }
    rmdir(dir);
}

int main(void) {
    base_url = env("OD_TEST_BASE_URL");
    token = env("OD_TEST_TOKEN");
    monitor_origin = env("OD_TEST_MONITOR_ORIGIN");
    source_url = env("OD_TEST_SOURCE_URL");
    ca_file = getenv("OD_TEST_CA_FILE"); /* https: the emulator's CA */
    if (ca_file == NULL) ca_file = "";

    test_static_functions();
    test_client_new_and_setters();
    test_last_error();
    test_cancel();
    test_upload_and_items();
    test_copy_and_jobs();
    test_url_upload();
    test_token_callback();
    test_not_found_job();
    test_sessions();
    test_non_ascii_path();
    test_folders_and_delete();
    test_listing();
    test_move();
    test_download();
    test_network_settings();
    test_queue();

    printf("test_api: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
