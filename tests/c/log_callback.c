/*
 * log_callback.c: log lines reach the integrator's callback, with its
 * userdata, filtered by level, and stop when it is removed; the callback
 * cannot re-register itself (that would deadlock). Usage: log_callback ROOT
 */
#include "check.h"

struct sink {
    unsigned lines;
    unsigned by_level[6];
    unsigned malformed;
    dha_result reentry;
    int saw_finished;
};

static void on_log(void *userdata, dha_log_level level, const char *message, size_t len) {
    struct sink *sink = userdata;
    sink->lines++;
    if (level < DHA_LOG_LEVEL_ERROR || level > DHA_LOG_LEVEL_TRACE || message == NULL ||
        strlen(message) != len || len > DHA_MESSAGE_MAX) {
        sink->malformed++;
        return;
    }
    sink->by_level[level]++;
    if (contains(message, "finished")) {
        sink->saw_finished = 1;
    }
    sink->reentry = dha_set_log_callback(NULL, NULL, DHA_LOG_LEVEL_OFF);
    printf("log\t%u\t%s\n", (unsigned)level, message);
}

static void audit(const char *root) {
    dha_config *config = NULL;
    dha_report *report = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);
    CHECK_RC(dha_audit_run(config, root, &report), DHA_OK);
    dha_report_free(report);
    dha_config_free(config);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    struct sink sink;
    memset(&sink, 0, sizeof sink);
    sink.reentry = DHA_OK;

    /* Everything down to DEBUG: each check announces itself. */
    CHECK_RC(dha_set_log_callback(on_log, &sink, DHA_LOG_LEVEL_DEBUG), DHA_OK);
    audit(argv[1]);
    CHECK(sink.malformed == 0);
    CHECK(sink.lines > 0);
    CHECK(sink.by_level[DHA_LOG_LEVEL_DEBUG] > 0);
    CHECK(sink.by_level[DHA_LOG_LEVEL_TRACE] == 0);
    CHECK(sink.saw_finished);
    CHECK(sink.reentry == DHA_ERR_CALLED_FROM_CALLBACK);

    /* WARN and above only: no progress lines any more. */
    memset(&sink, 0, sizeof sink);
    CHECK_RC(dha_set_log_callback(on_log, &sink, DHA_LOG_LEVEL_WARN), DHA_OK);
    audit(argv[1]);
    CHECK(sink.by_level[DHA_LOG_LEVEL_DEBUG] == 0 && sink.by_level[DHA_LOG_LEVEL_INFO] == 0);
    CHECK(sink.malformed == 0);

    /* Removed: nothing more arrives. */
    CHECK_RC(dha_set_log_callback(NULL, NULL, DHA_LOG_LEVEL_OFF), DHA_OK);
    unsigned before = sink.lines;
    audit(argv[1]);
    CHECK(sink.lines == before);

    puts("ok log_callback");
    return 0;
}
