/*
 * threads.c: several threads audit at once with one shared configuration,
 * each keeps its own last error detail, and the log callback is called from
 * the auditing threads. Usage: threads ROOT
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

#include <pthread.h>

#define THREADS 4

static const dha_config *shared_config;
static const char *root;
static size_t expected_count;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned log_lines;

static void on_log(void *userdata, dha_log_level level, const char *message, size_t len) {
    (void)level;
    (void)message;
    (void)len;
    unsigned *lines = userdata;
    CHECK(pthread_mutex_lock(&log_lock) == 0);
    (*lines)++;
    CHECK(pthread_mutex_unlock(&log_lock) == 0);
}

struct job {
    int index;
    int ok;
};

static void *run(void *arg) {
    struct job *job = arg;
    char missing[64];
    snprintf(missing, sizeof missing, "/nonexistent/thread-%d", job->index);

    /* A failure whose detail names this thread. */
    dha_report *report = NULL;
    CHECK_RC(dha_audit_run(shared_config, missing, &report), DHA_ERR_ROOT_NOT_FOUND);

    /* A real audit, with the shared configuration, while the others run. */
    CHECK_RC(dha_audit_run(shared_config, root, &report), DHA_OK);
    CHECK(dha_report_finding_count(report) == expected_count);
    dha_report_free(report);

    /* The other threads' failures did not replace this thread's detail. */
    CHECK(contains(test_detail(), missing));
    job->ok = 1;
    return NULL;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    root = argv[1];

    dha_config *config = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);
    shared_config = config;

    dha_report *report = NULL;
    CHECK_RC(dha_audit_run(config, root, &report), DHA_OK);
    expected_count = dha_report_finding_count(report);
    dha_report_free(report);

    CHECK_RC(dha_set_log_callback(on_log, &log_lines, DHA_LOG_LEVEL_DEBUG), DHA_OK);

    pthread_t threads[THREADS];
    struct job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i].index = i;
        jobs[i].ok = 0;
        CHECK(pthread_create(&threads[i], NULL, run, &jobs[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(jobs[i].ok);
    }

    /* After removal returns, the callback is not running and userdata may go. */
    CHECK_RC(dha_set_log_callback(NULL, NULL, DHA_LOG_LEVEL_OFF), DHA_OK);
    CHECK(log_lines > 0);
    /* The main thread's own detail is untouched by the threads' failures. */
    CHECK(!contains(test_detail(), "thread-"));

    dha_config_free(config);
    puts("ok threads");
    return 0;
}
