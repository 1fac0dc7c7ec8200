/*
 * evidence.c: the disclosure evidence through the C API
 * (dha_evidence_to_json): asking for the size, a buffer one byte too small,
 * the evidence itself, with and without a configuration, and the errors of
 * NULL or bad arguments. Writes the JSON to JSON_OUT for the Rust driver to
 * compare with the evidence made in Rust.
 *
 * Usage: evidence ROOT JSON_OUT ALL_CHECKS_DISABLED_TOML
 */
#include "check.h"

int main(int argc, char **argv) {
    CHECK(argc == 4);
    const char *root = argv[1];

    /* The size, NUL included: buf NULL with len 0 asks for it. */
    size_t needed = 0;
    CHECK_RC(dha_evidence_to_json(NULL, root, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(needed > 1000);

    /* One byte too small: nothing copied, the empty string, the size again. */
    char *small = malloc(needed - 1);
    CHECK(small != NULL);
    memset(small, 'x', needed - 1);
    size_t again = 0;
    CHECK_RC(dha_evidence_to_json(NULL, root, small, needed - 1, &again),
             DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(small[0] == '\0');
    CHECK(again == needed);
    CHECK(contains(test_detail(), "needs"));
    free(small);

    /* The evidence, with some slack (every call audits again). */
    size_t len = needed + 4096;
    char *buf = malloc(len);
    CHECK(buf != NULL);
    size_t written = 0;
    CHECK_RC(dha_evidence_to_json(NULL, root, buf, len, &written), DHA_OK);
    CHECK(written == strlen(buf) + 1);
    CHECK(contains(buf, "\"schema_version\": 1"));
    CHECK(contains(buf, "\"mds2\""));
    CHECK(contains(buf, "\"iec62443\""));
    CHECK(contains(buf, "\"id\": \"PAUT\""));
    CHECK(contains(buf, "\"answer\": \"no\""));

    FILE *out = fopen(argv[2], "w");
    CHECK(out != NULL);
    CHECK(fputs(buf, out) >= 0);
    CHECK(fclose(out) == 0);

    /* The same with an explicit configuration handle (the defaults). */
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);
    size_t with_config = 0;
    CHECK_RC(dha_evidence_to_json(config, root, buf, len, &with_config), DHA_OK);
    CHECK(contains(buf, "\"mds2\""));
    dha_config_free(config);
    free(buf);

    /* Every check disabled: nothing audited, no evidence. */
    dha_config *off = NULL;
    CHECK_RC(dha_config_new_from_toml(argv[3], &off), DHA_OK);
    CHECK_RC(dha_evidence_to_json(off, root, NULL, 0, &needed),
             DHA_ERR_EVIDENCE_NOTHING_AUDITED);
    CHECK(contains(test_detail(), "no check could run"));
    dha_config_free(off);

    /* Bad arguments. */
    char one[8];
    CHECK_RC(dha_evidence_to_json(NULL, NULL, one, sizeof one, &needed), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_evidence_to_json(NULL, root, one, sizeof one, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_evidence_to_json(NULL, root, NULL, 8, &needed), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_evidence_to_json(NULL, "/nonexistent/dha-root", one, sizeof one, &needed),
             DHA_ERR_ROOT_NOT_FOUND);
    CHECK_RC(dha_evidence_to_json(NULL, "/tmp/\xff", one, sizeof one, &needed),
             DHA_ERR_INVALID_UTF8);
    CHECK(one[0] == '\0');

    printf("ok evidence\n");
    return 0;
}
