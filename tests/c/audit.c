/*
 * audit.c: audits a root through the C API and prints its findings, one per
 * line, for the Rust driver to compare with the same audit made in Rust:
 *
 *     version <TAB> 0.1.0
 *     finding <TAB> ACC-03 <TAB> high <TAB> /etc/shadow <TAB> 4 <TAB> title
 *     count <TAB> 1
 *
 * and writes the report's JSON to JSON_OUT. Usage: audit ROOT JSON_OUT
 */
#include "check.h"

#include <ctype.h>

static const char *const SEVERITY_NAMES[] = {"info", "low", "medium", "high", "critical"};

/* A check id as CHECKS.md spells them: 2 to 4 capital letters, '-', 2 digits. */
static int well_formed_id(const char *id) {
    size_t letters = 0;
    while (isupper((unsigned char)id[letters])) {
        letters++;
    }
    return letters >= 2 && letters <= 4 && id[letters] == '-' &&
           isdigit((unsigned char)id[letters + 1]) && isdigit((unsigned char)id[letters + 2]) &&
           id[letters + 3] == '\0';
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    const char *root = argv[1];

    /* The header and the library are the same version. */
    char expect_prefix[64];
    snprintf(expect_prefix, sizeof expect_prefix, "%d.%d.%d", DHA_VERSION_MAJOR,
             DHA_VERSION_MINOR, DHA_VERSION_PATCH);
    CHECK(strncmp(DHA_VERSION_STRING, expect_prefix, strlen(expect_prefix)) == 0);
    CHECK(strcmp(dha_version(), DHA_VERSION_STRING) == 0);
    printf("version\t%s\n", dha_version());

    dha_config *config = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);
    CHECK(config != NULL);

    dha_report *report = NULL;
    CHECK_RC(dha_audit_run(config, root, &report), DHA_OK);
    CHECK(report != NULL);
    /* The report keeps nothing of the configuration. */
    dha_config_free(config);

    size_t count = dha_report_finding_count(report);
    size_t per_severity[5] = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < count; i++) {
        const dha_finding *f = NULL;
        CHECK_RC(dha_report_finding(report, i, &f), DHA_OK);
        CHECK(f != NULL);

        const char *id = dha_finding_check_id(f);
        CHECK(id != NULL && well_formed_id(id));
        const char *title = dha_finding_title(f);
        CHECK(title != NULL && title[0] != '\0');
        CHECK(dha_finding_remediation(f) != NULL);
        dha_severity severity = DHA_SEVERITY_INFO;
        CHECK_RC(dha_finding_severity(f, &severity), DHA_OK);
        CHECK(severity <= DHA_SEVERITY_CRITICAL);
        per_severity[severity]++;

        const char *file = dha_finding_file(f);
        uint32_t line = dha_finding_line(f);
        CHECK(file == NULL || file[0] == '/');
        CHECK(file != NULL || line == 0);
        /* Borrowed strings are stable: asking again gives the same pointer. */
        CHECK(dha_finding_check_id(f) == id);

        printf("finding\t%s\t%s\t%s\t%u\t%s\n", id, SEVERITY_NAMES[severity],
               file != NULL ? file : "-", (unsigned)line, title);
    }

    /* Counts at or above each severity agree with the findings. */
    size_t at_least = 0;
    for (int s = DHA_SEVERITY_CRITICAL; s >= (int)DHA_SEVERITY_INFO; s--) {
        size_t n = 0;
        at_least += per_severity[s];
        CHECK_RC(dha_report_count_at_least(report, (uint32_t)s, &n), DHA_OK);
        CHECK(n == at_least);
    }
    CHECK(at_least == count);

    /* JSON: ask for the size, then fetch into a buffer of exactly that size. */
    size_t needed = 0;
    CHECK_RC(dha_report_to_json(report, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(needed > 1);
    char *json = malloc(needed);
    CHECK(json != NULL);
    size_t again = 0;
    CHECK_RC(dha_report_to_json(report, json, needed, &again), DHA_OK);
    CHECK(again == needed);
    CHECK(strlen(json) == needed - 1);
    CHECK(contains(json, "\"schema_version\""));
    for (size_t i = 0; i < count; i++) {
        const dha_finding *f = NULL;
        CHECK_RC(dha_report_finding(report, i, &f), DHA_OK);
        CHECK(contains(json, dha_finding_check_id(f)));
    }

    FILE *out = fopen(argv[2], "w");
    CHECK(out != NULL);
    CHECK(fwrite(json, 1, needed - 1, out) == needed - 1);
    CHECK(fclose(out) == 0);
    free(json);

    printf("count\t%zu\n", count);
    dha_report_free(report);
    return 0;
}
