/*
 * sbom.c: the SBOM through the C API (dha_sbom_to_json): the size query,
 * a buffer too small, NULL arguments, a missing root, a root whose install
 * journal is malformed, and a real document that is written to JSON_OUT for
 * the Rust driver to compare with the same SBOM made in Rust.
 *
 * Usage: sbom ROOT BROKEN_ROOT JSON_OUT
 */
#include "check.h"

int main(int argc, char **argv) {
    CHECK(argc == 4);
    const char *root = argv[1];
    const char *broken_root = argv[2];

    /* The size query: no buffer, length 0. NULL config: the defaults. */
    size_t needed = 0;
    CHECK_RC(dha_sbom_to_json(NULL, root, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(needed > 100);

    /* A buffer too small: nothing of the JSON, an empty string, the size. */
    char small[16];
    memset(small, 0x55, sizeof small);
    size_t needed_small = 0;
    CHECK_RC(dha_sbom_to_json(NULL, root, small, sizeof small, &needed_small),
             DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(small[0] == '\0');
    CHECK(needed_small == needed);
    CHECK(contains(test_detail(), "needs"));

    /* The real thing, with a configuration handle (the timestamp may grow
     * by a few bytes between calls: give some slack). */
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);
    size_t len = needed + 256;
    char *buf = malloc(len);
    CHECK(buf != NULL);
    size_t written = 0;
    CHECK_RC(dha_sbom_to_json(config, root, buf, len, &written), DHA_OK);
    CHECK(written >= 2 && written <= len);
    CHECK(strlen(buf) == written - 1);
    CHECK(contains(buf, "\"bomFormat\": \"CycloneDX\""));
    CHECK(contains(buf, "\"specVersion\": \"1.5\""));
    CHECK(contains(buf, "pkg:deb/debian/"));

    /* NULL arguments are refused, never dereferenced. */
    size_t n = 0;
    CHECK_RC(dha_sbom_to_json(config, NULL, buf, len, &n), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_sbom_to_json(config, root, buf, len, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_sbom_to_json(config, root, NULL, 10, &n), DHA_ERR_NULL_ARGUMENT);
    CHECK(contains(test_detail(), "buf"));

    /* A root that does not exist; a journal that is not a journal. */
    CHECK_RC(dha_sbom_to_json(config, "/nonexistent/dha-sbom-root", buf, len, &n),
             DHA_ERR_ROOT_NOT_FOUND);
    CHECK_RC(dha_sbom_to_json(config, broken_root, buf, len, &n), DHA_ERR_SBOM_UNREADABLE);
    CHECK(contains(test_detail(), "install.journal"));
    char message[256];
    CHECK_RC(dha_result_message(DHA_ERR_SBOM_UNREADABLE, message, sizeof message, &n), DHA_OK);
    CHECK(contains(message, "SBOM"));

    /* The document made before, for the driver. */
    CHECK_RC(dha_sbom_to_json(config, root, buf, len, &written), DHA_OK);
    FILE *out = fopen(argv[3], "w");
    CHECK(out != NULL);
    CHECK(fputs(buf, out) >= 0);
    CHECK(fclose(out) == 0);

    free(buf);
    dha_config_free(config);
    printf("ok sbom\n");
    return 0;
}
