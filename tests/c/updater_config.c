/*
 * updater_config.c: the updater takes the device's settings from the
 * configuration document's [update] section (dha.example.toml), against the
 * reference repository tests/data/tuf/reference/hardware-id (python-tuf):
 *
 * 1. with `[update] hardware_id = "mr-scanner-03"`, firmware/ct.bin (built
 *    for ct-console-07) is refused with DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH
 *    (328) and nothing is written; firmware/mr.bin installs;
 * 2. with the default configuration, firmware/ct.bin is accepted;
 * 3. bad [update] values are refused, naming the key; plain http:// is
 *    accepted only with `allow_plain_http = true`.
 *
 * Usage: updater_config ROOT METADATA TARGETS DIR1 DEST1 DIR2 DEST2
 * (ROOT, METADATA and TARGETS are the scenario's client/root.json, metadata/
 * and targets/; the DIRs and DESTs are empty directories).
 */
#include "check.h"

static dha_config *config_from(const char *toml) {
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_from_toml(toml, &config), DHA_OK);
    CHECK(config != NULL);
    return config;
}

/* Seeds `dir` with the root at `root_path`. */
static void init_root(const char *dir, const char *root_path) {
    FILE *f = fopen(root_path, "rb");
    CHECK(f != NULL);
    static uint8_t root[512000];
    size_t len = fread(root, 1, sizeof root, f);
    CHECK(len > 0 && feof(f));
    CHECK(fclose(f) == 0);
    CHECK_RC(dha_updater_init_root(dir, root, len), DHA_OK);
}

/* True when the file `dir/name` can be opened. */
static int exists(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    CHECK(fclose(f) == 0);
    return 1;
}

static void configured_hardware_id(char **argv) {
    const char *root = argv[1], *metadata = argv[2], *targets = argv[3], *dir = argv[4],
               *dest = argv[5];
    init_root(dir, root);
    dha_config *config = config_from("[update]\nhardware_id = \"mr-scanner-03\"\n");
    dha_updater *updater = NULL;
    CHECK_RC(dha_updater_new(config, dir, metadata, targets, &updater), DHA_OK);
    /* The updater copied what it needs. */
    dha_config_free(config);

    dha_target *target = NULL;
    CHECK_RC(dha_updater_get_target(updater, "firmware/ct.bin", &target),
             DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH);
    CHECK(DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH == 328);
    CHECK(target == NULL);
    const char *detail = test_detail();
    CHECK(contains(detail, "firmware/ct.bin"));
    CHECK(contains(detail, "ct-console-07"));
    CHECK(contains(detail, "mr-scanner-03"));

    CHECK_RC(dha_updater_get_target(updater, "firmware/mr.bin", &target), DHA_OK);
    CHECK_RC(dha_updater_download_target(updater, target, dest), DHA_OK);
    dha_target_free(target);
    dha_updater_free(updater);
    CHECK(exists(dest, "firmware/mr.bin"));
    CHECK(!exists(dest, "firmware/ct.bin"));
}

static void default_configuration(char **argv) {
    const char *root = argv[1], *metadata = argv[2], *targets = argv[3], *dir = argv[6],
               *dest = argv[7];
    init_root(dir, root);
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);
    dha_updater *updater = NULL;
    CHECK_RC(dha_updater_new(config, dir, metadata, targets, &updater), DHA_OK);
    dha_config_free(config);
    dha_target *target = NULL;
    CHECK_RC(dha_updater_get_target(updater, "firmware/ct.bin", &target), DHA_OK);
    CHECK_RC(dha_updater_download_target(updater, target, dest), DHA_OK);
    dha_target_free(target);
    dha_updater_free(updater);
    CHECK(exists(dest, "firmware/ct.bin"));
}

static void bad_settings(char **argv) {
    const char *metadata = argv[2], *dir = argv[4];
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_from_toml("[update]\nmax_delegations = 0\n", &config),
             DHA_ERR_CONFIG_INVALID);
    CHECK(config == NULL);
    CHECK(contains(test_detail(), "update.max_delegations"));
    CHECK_RC(dha_config_new_from_toml("[update]\nhardware_id = 7\n", &config),
             DHA_ERR_CONFIG_PARSE);
    CHECK(contains(test_detail(), "line 2, column 15: update.hardware_id"));

    /* Plain http:// only with the switch (nothing is fetched here). */
    dha_updater *updater = NULL;
    config = config_from("");
    CHECK_RC(dha_updater_new(config, dir, "http://127.0.0.1:9/metadata", metadata, &updater),
             DHA_ERR_INVALID_ARGUMENT);
    CHECK(contains(test_detail(), "allow_plain_http"));
    dha_config_free(config);
    config = config_from("[update]\nallow_plain_http = true\n");
    CHECK_RC(dha_updater_new(config, dir, "http://127.0.0.1:9/metadata", metadata, &updater),
             DHA_OK);
    dha_config_free(config);
    dha_updater_free(updater);
}

int main(int argc, char **argv) {
    CHECK(argc == 8);
    configured_hardware_id(argv);
    default_configuration(argv);
    bad_settings(argv);
    printf("ok updater_config\n");
    return 0;
}
