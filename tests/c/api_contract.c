/*
 * api_contract.c: every function's contract at its edges: NULL arguments,
 * strings that are not UTF-8, short buffers, unknown numbers, free(NULL),
 * configuration errors. Usage: api_contract ROOT REGULAR_FILE
 */
#include "check.h"

#include <stdint.h>

static const dha_result KNOWN[] = {
    DHA_OK,
    DHA_ERR_NULL_ARGUMENT,
    DHA_ERR_INVALID_UTF8,
    DHA_ERR_INSUFFICIENT_SIZE,
    DHA_ERR_PANIC,
    DHA_ERR_INDEX_OUT_OF_RANGE,
    DHA_ERR_IO,
    DHA_ERR_INVALID_ARGUMENT,
    DHA_ERR_LOGGER_UNAVAILABLE,
    DHA_ERR_CALLED_FROM_CALLBACK,
    DHA_ERR_CONFIG_PARSE,
    DHA_ERR_CONFIG_INVALID,
    DHA_ERR_ROOT_NOT_FOUND,
    DHA_ERR_ROOT_NOT_A_DIRECTORY,
    DHA_ERR_ROOT_PERMISSION_DENIED,
};

static void no_op_log(void *userdata, dha_log_level level, const char *message, size_t len) {
    (void)userdata;
    (void)level;
    (void)message;
    (void)len;
}

/* The last error detail, copied (test_detail's buffer is reused). */
static void copy_detail(char *buf, size_t len) {
    size_t written = 0;
    CHECK_RC(dha_last_error_detail(buf, len, &written), DHA_OK);
    CHECK(written == strlen(buf));
}

static void result_messages(void) {
    char buf[DHA_MESSAGE_MAX + 1];
    size_t written = 0;

    /* The numbers are the ABI. */
    CHECK(DHA_OK == 0 && DHA_ERR_NULL_ARGUMENT == 1 && DHA_ERR_PANIC == 4);
    CHECK(DHA_ERR_CONFIG_PARSE == 100 && DHA_ERR_ROOT_NOT_FOUND == 200);

    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++) {
        CHECK_RC(dha_result_message(KNOWN[i], buf, sizeof buf, &written), DHA_OK);
        CHECK(written > 0 && written == strlen(buf));
        CHECK(!contains(buf, "unknown"));
    }
    /* A number this library does not know is described, never trusted. */
    CHECK_RC(dha_result_message(12345, buf, sizeof buf, &written), DHA_OK);
    CHECK(contains(buf, "unknown") && contains(buf, "12345"));
    CHECK_RC(dha_result_message(UINT32_MAX, buf, sizeof buf, &written), DHA_OK);
    CHECK(contains(buf, "4294967295"));

    /* Short buffers: cut, always NUL-terminated, written excludes the NUL. */
    char small[5];
    memset(small, 'X', sizeof small);
    CHECK_RC(dha_result_message(DHA_ERR_NULL_ARGUMENT, small, sizeof small, &written),
             DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(written == 4 && small[4] == '\0' && strlen(small) == 4);
    memset(small, 'X', sizeof small);
    CHECK_RC(dha_result_message(DHA_OK, small, 1, &written), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(written == 0 && small[0] == '\0' && small[1] == 'X');
    written = 99;
    CHECK_RC(dha_result_message(DHA_OK, NULL, 0, &written), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(written == 0);
    /* Exactly enough room: "success" and its NUL. */
    char exact[8];
    CHECK_RC(dha_result_message(DHA_OK, exact, sizeof exact, &written), DHA_OK);
    CHECK(written == 7 && strcmp(exact, "success") == 0);

    /* NULL arguments. */
    CHECK_RC(dha_result_message(DHA_OK, NULL, 10, &written), DHA_ERR_NULL_ARGUMENT);
    memset(small, 'X', sizeof small);
    CHECK_RC(dha_result_message(DHA_OK, small, sizeof small, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK(small[0] == '\0');
}

static void configurations(void) {
    dha_config *config = NULL;
    char detail[DHA_MESSAGE_MAX + 1];
    size_t written = 0;

    CHECK_RC(dha_config_new_default(NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK(contains(test_detail(), "dha_config_new_default") && contains(test_detail(), "out"));
    CHECK_RC(dha_config_new_from_toml(NULL, &config), DHA_ERR_NULL_ARGUMENT);
    CHECK(contains(test_detail(), "`toml`"));
    CHECK_RC(dha_config_new_from_toml("", NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK(config == NULL);

    /* Not UTF-8 (a Latin-1 byte). */
    CHECK_RC(dha_config_new_from_toml("[accounts]\nsu_group = \"r\xe9seau\"\n", &config),
             DHA_ERR_INVALID_UTF8);
    CHECK(config == NULL);

    /* A misspelt key is refused, named with its line. */
    CHECK_RC(dha_config_new_from_toml("[password]\nmax_days = 60\nmin_lenght = 14\n", &config),
             DHA_ERR_CONFIG_PARSE);
    CHECK(config == NULL);
    copy_detail(detail, sizeof detail);
    CHECK(contains(detail, "min_lenght") && contains(detail, "line 3"));

    /* Reading the detail, or a message, does not change the detail. */
    char again[DHA_MESSAGE_MAX + 1];
    CHECK_RC(dha_result_message(DHA_ERR_CONFIG_PARSE, again, sizeof again, &written), DHA_OK);
    CHECK_RC(dha_last_error_detail(NULL, 10, &written), DHA_ERR_NULL_ARGUMENT);
    copy_detail(again, sizeof again);
    CHECK(strcmp(again, detail) == 0);

    /* The detail into short buffers. */
    char small[8];
    memset(small, 'X', sizeof small);
    CHECK_RC(dha_last_error_detail(small, sizeof small, &written), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(written == 7 && small[7] == '\0' && strncmp(small, detail, 7) == 0);
    written = 99;
    CHECK_RC(dha_last_error_detail(NULL, 0, &written), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(written == 0);
    memset(small, 'X', sizeof small);
    CHECK_RC(dha_last_error_detail(small, sizeof small, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK(small[0] == '\0');

    /* Wrong type, bad syntax, out-of-range value, unknown check id. */
    CHECK_RC(dha_config_new_from_toml("[password]\nmax_days = \"sixty\"\n", &config),
             DHA_ERR_CONFIG_PARSE);
    CHECK(contains(test_detail(), "max_days"));
    CHECK_RC(dha_config_new_from_toml("[password\n", &config), DHA_ERR_CONFIG_PARSE);
    CHECK_RC(dha_config_new_from_toml("[accounts]\numask = \"999\"\n", &config),
             DHA_ERR_CONFIG_INVALID);
    CHECK(contains(test_detail(), "accounts.umask"));
    CHECK_RC(dha_config_new_from_toml("[checks.ACC-99]\nenabled = false\n", &config),
             DHA_ERR_CONFIG_INVALID);
    CHECK(contains(test_detail(), "ACC-99"));
    CHECK(config == NULL);

    /* Good documents. */
    CHECK_RC(dha_config_new_from_toml("", &config), DHA_OK);
    CHECK(config != NULL);
    dha_config_free(config);
    config = NULL;
    CHECK_RC(dha_config_new_from_toml("[password]\nmax_days = 60\n[checks.ACC-05]\nenabled = false\n",
                                      &config),
             DHA_OK);
    CHECK(config != NULL);
    dha_config_free(config);
}

static void audits_and_reports(const char *root, const char *regular_file) {
    dha_config *config = NULL;
    dha_report *report = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);

    CHECK_RC(dha_audit_run(NULL, root, &report), DHA_ERR_NULL_ARGUMENT);
    CHECK(contains(test_detail(), "`config`"));
    CHECK_RC(dha_audit_run(config, NULL, &report), DHA_ERR_NULL_ARGUMENT);
    CHECK(contains(test_detail(), "`root_path`"));
    CHECK_RC(dha_audit_run(config, root, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_audit_run(config, "/tmp/\xff\xfe", &report), DHA_ERR_INVALID_UTF8);
    CHECK_RC(dha_audit_run(config, "/nonexistent/dha-root", &report), DHA_ERR_ROOT_NOT_FOUND);
    CHECK(contains(test_detail(), "/nonexistent/dha-root"));
    CHECK_RC(dha_audit_run(config, regular_file, &report), DHA_ERR_ROOT_NOT_A_DIRECTORY);
    char *long_path = malloc(DHA_ROOT_PATH_MAX + 2);
    CHECK(long_path != NULL);
    memset(long_path, 'a', DHA_ROOT_PATH_MAX + 1);
    long_path[DHA_ROOT_PATH_MAX + 1] = '\0';
    CHECK_RC(dha_audit_run(config, long_path, &report), DHA_ERR_INVALID_ARGUMENT);
    free(long_path);
    CHECK(report == NULL);

    CHECK_RC(dha_audit_run(config, root, &report), DHA_OK);
    CHECK(report != NULL);
    dha_config_free(config);

    size_t count = dha_report_finding_count(report);
    const dha_finding *finding = NULL;
    CHECK(dha_report_finding_count(NULL) == 0);
    CHECK_RC(dha_report_finding(NULL, 0, &finding), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_report_finding(report, 0, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_report_finding(report, count, &finding), DHA_ERR_INDEX_OUT_OF_RANGE);
    CHECK_RC(dha_report_finding(report, SIZE_MAX, &finding), DHA_ERR_INDEX_OUT_OF_RANGE);
    CHECK(finding == NULL);

    size_t n = 0;
    CHECK_RC(dha_report_count_at_least(NULL, DHA_SEVERITY_INFO, &n), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_report_count_at_least(report, DHA_SEVERITY_INFO, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_report_count_at_least(report, 5, &n), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_report_count_at_least(report, UINT32_MAX, &n), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_report_count_at_least(report, DHA_SEVERITY_INFO, &n), DHA_OK);
    CHECK(n == count);

    /* Finding accessors: NULL in, NULL (or 0) out. */
    dha_severity severity = DHA_SEVERITY_INFO;
    CHECK(dha_finding_check_id(NULL) == NULL);
    CHECK(dha_finding_title(NULL) == NULL);
    CHECK(dha_finding_file(NULL) == NULL);
    CHECK(dha_finding_line(NULL) == 0);
    CHECK(dha_finding_observed(NULL) == NULL);
    CHECK(dha_finding_expected(NULL) == NULL);
    CHECK(dha_finding_remediation(NULL) == NULL);
    CHECK_RC(dha_finding_severity(NULL, &severity), DHA_ERR_NULL_ARGUMENT);
    if (count > 0) {
        CHECK_RC(dha_report_finding(report, 0, &finding), DHA_OK);
        CHECK_RC(dha_finding_severity(finding, NULL), DHA_ERR_NULL_ARGUMENT);
    }

    /* JSON into caller buffers. */
    size_t needed = 0;
    char small[16];
    CHECK_RC(dha_report_to_json(NULL, small, sizeof small, &needed), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_report_to_json(report, NULL, 0, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_report_to_json(report, NULL, 10, &needed), DHA_ERR_NULL_ARGUMENT);
    CHECK(needed == 0);
    CHECK_RC(dha_report_to_json(report, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(needed > sizeof small);
    size_t needed_again = 0;
    memset(small, 'X', sizeof small);
    CHECK_RC(dha_report_to_json(report, small, sizeof small, &needed_again),
             DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(needed_again == needed && small[0] == '\0');
    char *json = malloc(needed);
    CHECK(json != NULL);
    memset(json, 'X', needed);
    CHECK_RC(dha_report_to_json(report, json, needed - 1, &needed_again),
             DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(json[0] == '\0');
    CHECK_RC(dha_report_to_json(report, json, needed, &needed_again), DHA_OK);
    CHECK(strlen(json) == needed - 1 && json[0] == '{');
    free(json);

    dha_report_free(report);
}

static void frees_and_callbacks(void) {
    dha_config_free(NULL);
    dha_report_free(NULL);

    /* Removing a callback that was never set is fine; unknown levels are not. */
    CHECK_RC(dha_set_log_callback(NULL, NULL, DHA_LOG_LEVEL_OFF), DHA_OK);
    CHECK_RC(dha_set_log_callback(no_op_log, NULL, 6), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_set_log_callback(no_op_log, NULL, UINT32_MAX), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_set_log_callback(no_op_log, NULL, DHA_LOG_LEVEL_TRACE), DHA_OK);
    CHECK_RC(dha_set_log_callback(NULL, NULL, DHA_LOG_LEVEL_OFF), DHA_OK);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    CHECK(dha_version() != NULL && strcmp(dha_version(), DHA_VERSION_STRING) == 0);
    result_messages();
    configurations();
    audits_and_reports(argv[1], argv[2]);
    frees_and_callbacks();
    puts("ok api_contract");
    return 0;
}
