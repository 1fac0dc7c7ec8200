/*
 * installer.c: an A/B install through the C API, from a repository the test
 * driver (tests/tests/c_api.rs) signed with dha's repository tooling, into
 * two image-file slots with the file-backed boot control:
 *
 * 1. the updater is seeded with the repository's root and opened; the
 *    installer is made from a configuration whose [install] section names
 *    WORK/slot-a.img and WORK/slot-b.img, and from boot control over
 *    WORK/bootenv (A running and good, B empty);
 * 2. an event callback registered for DHA_EVENT_UPDATE | DHA_EVENT_INSTALL,
 *    and an install hook;
 * 3. TARGET (release 5) is installed: into slot B, the boot order switched
 *    to B (read through dha_boot_status_json and the status JSON), and the
 *    event callback received update.installed naming slot B, the install
 *    hook was called at pre-install and post-install;
 * 4. the hook vetoes a new install (DHA_ERR_INSTALL_VETOED); OLD (release
 *    3) is refused by the anti-rollback floor before anything
 *    is written (update.rejected); the verified target given the wrong
 *    file is refused; NULL arguments are refused; the frees accept NULL.
 *
 * Usage: installer ROOT_JSON METADATA_DIR METADATA TARGETS WORK TARGET OLD
 * (METADATA_DIR is an empty directory to initialise; TARGET and OLD are
 * target names in TARGETS.) The driver then checks slot B's bytes and the
 * boot environment.
 */
#include "check.h"

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    CHECK(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    CHECK(size > 0);
    CHECK(fseek(f, 0, SEEK_SET) == 0);
    uint8_t *buf = malloc((size_t)size);
    CHECK(buf != NULL);
    CHECK(fread(buf, 1, (size_t)size, f) == (size_t)size);
    CHECK(fclose(f) == 0);
    *len = (size_t)size;
    return buf;
}

struct seen {
    int calls;
    char last_kind[64];
    char last_payload[2048];
};

static int on_event(void *userdata, const char *kind, dha_severity severity,
                    const char *payload_json, bool logged, uint64_t seq) {
    struct seen *s = userdata;
    (void)severity;
    (void)logged;
    (void)seq;
    s->calls++;
    snprintf(s->last_kind, sizeof s->last_kind, "%s", kind);
    snprintf(s->last_payload, sizeof s->last_payload, "%s", payload_json);
    return 0;
}

/* What the install hook saw; it vetoes when `veto` is set. */
struct hook_seen {
    int calls;
    int veto;
    char phases[64];
    char slot[8];
    uint64_t version;
};

static int on_hook(void *userdata, const char *phase, const char *slot, const char *slot_path,
                   const char *target, uint64_t version, const char *sha256) {
    struct hook_seen *h = userdata;
    CHECK(slot_path != NULL && target != NULL && strlen(sha256) == 64);
    h->calls++;
    strncat(h->phases, phase, sizeof h->phases - strlen(h->phases) - 2);
    strcat(h->phases, ";");
    snprintf(h->slot, sizeof h->slot, "%s", slot);
    h->version = version;
    return h->veto;
}

/* The status JSON of `installer` or `boot`, malloc'd: a size query, then
 * a buffer of exactly that size. */
static char *installer_status(const dha_installer *installer) {
    size_t needed = 0;
    CHECK_RC(dha_installer_status_json(installer, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    char *json = malloc(needed);
    CHECK(json != NULL);
    CHECK_RC(dha_installer_status_json(installer, json, needed, &needed), DHA_OK);
    return json;
}

static char *boot_status(const dha_boot *boot) {
    size_t needed = 0;
    CHECK_RC(dha_boot_status_json(boot, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    char *json = malloc(needed);
    CHECK(json != NULL);
    CHECK_RC(dha_boot_status_json(boot, json, needed, &needed), DHA_OK);
    return json;
}

int main(int argc, char **argv) {
    CHECK(argc == 8);
    const char *root_path = argv[1], *store = argv[2], *metadata = argv[3],
               *targets = argv[4], *work = argv[5], *target = argv[6], *old = argv[7];
    char *slot_a = join(work, "slot-a.img");
    char *slot_b = join(work, "slot-b.img");
    char *journal = join(work, "install.journal");
    char *floor = join(work, "install.floor");
    char *env = join(work, "bootenv");
    char *target_file = join(targets, target);
    char *old_file = join(targets, old);

    /* 1. */
    size_t root_len = 0;
    uint8_t *root = read_file(root_path, &root_len);
    CHECK_RC(dha_updater_init_root(store, root, root_len), DHA_OK);
    free(root);
    char toml[8192];
    int n = snprintf(toml, sizeof toml,
                     "[eventlog]\n" /* none made: events are not logged */
                     "path = \"%s/events.log\"\n"
                     "key = \"%s/events.key\"\n"
                     "[install]\n"
                     "journal = \"%s\"\n"
                     "floor = \"%s\"\n"
                     "slots = [\n"
                     "  { name = \"A\", kind = \"image\", path = \"%s\" },\n"
                     "  { name = \"B\", kind = \"image\", path = \"%s\" },\n"
                     "]\n",
                     work, work, journal, floor, slot_a, slot_b);
    CHECK(n > 0 && (size_t)n < sizeof toml);
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_from_toml(toml, &config), DHA_OK);
    dha_updater *updater = NULL;
    CHECK_RC(dha_updater_new(config, store, metadata, targets, &updater), DHA_OK);
    dha_boot *boot = NULL;
    CHECK_RC(dha_boot_new_file(env, &boot), DHA_OK);

    /* 2. */
    struct seen seen = {0, "", ""};
    CHECK_RC(dha_hooks_register(config, DHA_EVENT_UPDATE | DHA_EVENT_INSTALL, on_event, &seen),
             DHA_OK);
    dha_installer *installer = NULL;
    CHECK_RC(dha_installer_new(config, boot, &installer), DHA_OK);
    dha_config_free(config); /* the installer keeps what it needs */

    char *json = installer_status(installer);
    CHECK(contains(json, "\"recovered\":null"));
    CHECK(contains(json, "\"name\":\"A\""));
    free(json);

    /* 3. */
    struct hook_seen hook = {0, 0, "", "", 0};
    CHECK_RC(dha_installer_set_hook(installer, on_hook, &hook), DHA_OK);
    CHECK_RC(dha_installer_install(installer, updater, target, target_file), DHA_OK);
    CHECK(hook.calls == 2 && strcmp(hook.phases, "pre-install;post-install;") == 0);
    CHECK(strcmp(hook.slot, "B") == 0 && hook.version == 5);
    json = boot_status(boot);
    CHECK(contains(json, "\"boot_order\":[\"B\",\"A\"]"));
    CHECK(contains(json, "\"next_boot\":\"B\""));
    /* Keys in alphabetical order. */
    CHECK(contains(json, "{\"booted\":false,\"position\":1,\"slot\":\"B\",\"tries_left\":3}"));
    free(json);
    json = installer_status(installer);
    CHECK(contains(json, "\"release_counter\":5"));
    CHECK(contains(json, "\"active\":true,\"booted\":false,\"content\":\"good\""));
    printf("status\t%s\n", json);
    free(json);
    CHECK(seen.calls == 1);
    CHECK(strcmp(seen.last_kind, "update.installed") == 0);
    CHECK(contains(seen.last_payload, "\"slot\":\"B\""));
    CHECK(contains(seen.last_payload, "\"version\":5"));

    /* 4. A veto before anything is written. */
    hook.veto = 1;
    CHECK_RC(dha_installer_install(installer, updater, target, target_file),
             DHA_ERR_INSTALL_VETOED);
    CHECK(contains(test_detail(), "pre-install"));
    CHECK_RC(dha_installer_set_hook(installer, NULL, NULL), DHA_OK);
    CHECK_RC(dha_installer_set_hook(NULL, on_hook, &hook), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_installer_install(installer, updater, old, old_file), DHA_ERR_INSTALL_ROLLBACK);
    CHECK(contains(test_detail(), "below the installed floor 5"));
    CHECK(seen.calls == 3 && strcmp(seen.last_kind, "update.rejected") == 0);
    CHECK_RC(dha_installer_install(installer, updater, target, old_file),
             DHA_ERR_INSTALL_SOURCE_MISMATCH);
    CHECK_RC(dha_installer_install(installer, updater, "not/listed.img", target_file),
             DHA_ERR_UPDATE_TARGET_NOT_FOUND);
    CHECK_RC(dha_installer_install(NULL, updater, target, target_file), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_installer_install(installer, NULL, target, target_file), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_installer_install(installer, updater, NULL, target_file), DHA_ERR_NULL_ARGUMENT);
    dha_installer *none = NULL;
    CHECK_RC(dha_installer_new(NULL, boot, &none), DHA_ERR_NULL_ARGUMENT);
    CHECK(none == NULL);
    size_t needed = 0;
    CHECK_RC(dha_installer_status_json(NULL, NULL, 0, &needed), DHA_ERR_NULL_ARGUMENT);

    dha_installer_free(installer);
    dha_installer_free(NULL);
    dha_boot_free(boot);
    dha_updater_free(updater);
    free(slot_a);
    free(slot_b);
    free(journal);
    free(floor);
    free(env);
    free(target_file);
    free(old_file);
    printf("ok installer\n");
    return 0;
}
