/*
 * updater.c: the updater's C API against repositories made by the TUF
 * reference implementation (tests/data/tuf/reference/, python-tuf):
 *
 * 1. basic-ed25519: init the metadata directory from the shipped root,
 *    refresh, look a target up, read its length, sha256 and custom JSON,
 *    download it with a progress callback, and check the file;
 * 2. expired-timestamp: refresh fails with DHA_ERR_UPDATE_EXPIRED, and the
 *    detail names the role;
 * 3. NULL arguments are refused; the frees accept NULL;
 * 4. a repository made by the test driver (dha's repository tooling) with
 *    a target of several MiB, LARGE_NAME: its download reports progress in
 *    between, about once per MiB.
 *
 * Usage: updater GOOD_ROOT GOOD_METADATA_DIR GOOD_METADATA GOOD_TARGETS DEST
 *                EXPIRED_ROOT EXPIRED_METADATA_DIR EXPIRED_METADATA EXPIRED_TARGETS
 *                LARGE_ROOT LARGE_METADATA_DIR LARGE_METADATA LARGE_TARGETS
 * (the *_METADATA_DIR are empty directories to initialise; the others are
 * the scenario's client/root.json, metadata/ and targets/).
 */
#include "check.h"

/* basic-ed25519's files/hello.txt (scenario.json). */
#define HELLO_NAME "files/hello.txt"
#define HELLO_LENGTH 25u
#define HELLO_SHA256 "8346c3ce8634e3cb68d01bce3a186376bab5f4ea6c2fccab4bab2fea069c6963"

/* The large target of case 4 (tests/tests/c_api.rs makes it). */
#define LARGE_NAME "files/large.bin"
#define LARGE_LENGTH (3u * 1024u * 1024u + 12345u)

/* Reads a whole (small) file into a malloc'd buffer. */
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

/* What the progress callback saw. */
struct progress {
    int calls;
    int calls_between; /* with 0 < done < total */
    uint64_t last_done;
    uint64_t total;
    char target[64];
};

static void on_progress(void *userdata, const char *target, uint64_t done, uint64_t total) {
    struct progress *p = userdata;
    CHECK(target != NULL);
    CHECK(done <= total);
    CHECK(p->calls == 0 || done >= p->last_done);
    if (done > 0 && done < total) {
        p->calls_between++;
    }
    snprintf(p->target, sizeof p->target, "%s", target);
    p->last_done = done;
    p->total = total;
    p->calls++;
}

/* Seeds `dir` with the root at `root_path`. */
static void init_root(const char *dir, const char *root_path) {
    size_t len = 0;
    uint8_t *root = read_file(root_path, &len);
    CHECK_RC(dha_updater_init_root(dir, root, len), DHA_OK);
    /* Again with the same bytes: nothing to do, not an error. */
    CHECK_RC(dha_updater_init_root(dir, root, len), DHA_OK);
    free(root);
}

static dha_updater *open_updater(const char *dir, const char *metadata, const char *targets) {
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);
    dha_updater *updater = NULL;
    CHECK_RC(dha_updater_new(config, dir, metadata, targets, &updater), DHA_OK);
    CHECK(updater != NULL);
    /* The updater keeps nothing of the configuration. */
    dha_config_free(config);
    return updater;
}

static void good_repository(char **argv) {
    const char *root = argv[1], *dir = argv[2], *metadata = argv[3], *targets = argv[4],
               *dest = argv[5];
    init_root(dir, root);
    dha_updater *updater = open_updater(dir, metadata, targets);

    struct progress progress = {0, 0, 0, 0, ""};
    CHECK_RC(dha_updater_set_progress_callback(updater, on_progress, &progress), DHA_OK);
    CHECK_RC(dha_updater_refresh(updater), DHA_OK);

    dha_target *target = NULL;
    CHECK_RC(dha_updater_get_target(updater, HELLO_NAME, &target), DHA_OK);
    CHECK(target != NULL);
    CHECK(strcmp(dha_target_name(target), HELLO_NAME) == 0);
    CHECK(dha_target_length(target) == HELLO_LENGTH);

    char hex[129];
    size_t written = 0;
    CHECK_RC(dha_target_hash(target, "sha256", hex, sizeof hex, &written), DHA_OK);
    CHECK(written == 64 && strcmp(hex, HELLO_SHA256) == 0);
    CHECK_RC(dha_target_hash(target, "sha512", hex, sizeof hex, &written), DHA_OK);
    CHECK(written == 128 && strlen(hex) == 128);
    /* Too small: nothing of the digest is copied, the size is told. */
    CHECK_RC(dha_target_hash(target, "sha256", hex, 64, &written),
             DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(written == 64 && hex[0] == '\0');
    CHECK_RC(dha_target_hash(target, "md5", hex, sizeof hex, &written),
             DHA_ERR_UPDATE_HASH_NOT_LISTED);

    size_t needed = 0;
    CHECK_RC(dha_target_custom_json(target, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    char *custom = malloc(needed);
    CHECK(custom != NULL);
    CHECK_RC(dha_target_custom_json(target, custom, needed, &needed), DHA_OK);
    CHECK(strcmp(custom, "null") == 0); /* basic-ed25519 lists no custom fields */
    free(custom);

    CHECK_RC(dha_updater_download_target(updater, target, dest), DHA_OK);
    CHECK(progress.calls >= 2);
    CHECK(progress.last_done == HELLO_LENGTH && progress.total == HELLO_LENGTH);
    CHECK(strcmp(progress.target, HELLO_NAME) == 0);

    /* The verified file is in place, with the listed length. */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dest, HELLO_NAME);
    size_t got = 0;
    uint8_t *bytes = read_file(path, &got);
    CHECK(got == HELLO_LENGTH);
    free(bytes);

    /* Removing the callback: the download of a file already in place
     * (verified, not fetched again) calls nothing. */
    CHECK_RC(dha_updater_set_progress_callback(updater, NULL, NULL), DHA_OK);
    int calls = progress.calls;
    CHECK_RC(dha_updater_download_target(updater, target, dest), DHA_OK);
    CHECK(progress.calls == calls);

    /* A target that no role lists. */
    dha_target *absent = NULL;
    CHECK_RC(dha_updater_get_target(updater, "files/absent.txt", &absent),
             DHA_ERR_UPDATE_TARGET_NOT_FOUND);
    CHECK(absent == NULL);
    CHECK(contains(test_detail(), "files/absent.txt"));

    /* A target outlives its updater. */
    dha_updater_free(updater);
    CHECK(dha_target_length(target) == HELLO_LENGTH);
    dha_target_free(target);
}

static void expired_repository(char **argv) {
    const char *root = argv[6], *dir = argv[7], *metadata = argv[8], *targets = argv[9];
    init_root(dir, root);
    dha_updater *updater = open_updater(dir, metadata, targets);
    CHECK_RC(dha_updater_refresh(updater), DHA_ERR_UPDATE_EXPIRED);
    const char *detail = test_detail();
    CHECK(contains(detail, "dha_updater_refresh"));
    CHECK(contains(detail, "timestamp"));
    CHECK(contains(detail, "expired"));

    /* The number has its own message. */
    char message[DHA_MESSAGE_MAX + 1];
    size_t written = 0;
    CHECK_RC(dha_result_message(DHA_ERR_UPDATE_EXPIRED, message, sizeof message, &written),
             DHA_OK);
    CHECK(contains(message, "expired"));

    /* A lookup refreshes first, and fails the same way. */
    dha_target *target = NULL;
    CHECK_RC(dha_updater_get_target(updater, "files/fw.bin", &target), DHA_ERR_UPDATE_EXPIRED);
    CHECK(target == NULL);
    dha_updater_free(updater);
}

static void null_arguments(const char *dir, const char *metadata) {
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);
    dha_updater *updater = NULL;
    CHECK_RC(dha_updater_new(NULL, dir, metadata, metadata, &updater), DHA_ERR_NULL_ARGUMENT);
    CHECK(contains(test_detail(), "`config`"));
    CHECK_RC(dha_updater_new(config, NULL, metadata, metadata, &updater),
             DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_updater_new(config, dir, metadata, metadata, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_updater_new(config, dir, "http://127.0.0.1/metadata", metadata, &updater),
             DHA_ERR_INVALID_ARGUMENT);
    CHECK(updater == NULL);
    dha_config_free(config);

    CHECK_RC(dha_updater_init_root(NULL, (const uint8_t *)"{}", 2), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_updater_init_root(dir, NULL, 0), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_updater_refresh(NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK(contains(test_detail(), "`updater`"));
    dha_target *target = NULL;
    CHECK_RC(dha_updater_get_target(NULL, HELLO_NAME, &target), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_updater_download_target(NULL, NULL, "/tmp"), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_updater_set_ca_bundle(NULL, "/tmp/ca.pem"), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_updater_set_progress_callback(NULL, NULL, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK(dha_target_name(NULL) == NULL);
    CHECK(dha_target_length(NULL) == 0);
    size_t n = 0;
    CHECK_RC(dha_target_hash(NULL, "sha256", NULL, 0, &n), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_target_custom_json(NULL, NULL, 0, &n), DHA_ERR_NULL_ARGUMENT);
    dha_updater_free(NULL);
    dha_target_free(NULL);
}

static void large_target(char **argv) {
    const char *root = argv[10], *dir = argv[11], *metadata = argv[12], *targets = argv[13],
               *dest = argv[5];
    init_root(dir, root);
    dha_updater *updater = open_updater(dir, metadata, targets);
    struct progress progress = {0, 0, 0, 0, ""};
    CHECK_RC(dha_updater_set_progress_callback(updater, on_progress, &progress), DHA_OK);
    dha_target *target = NULL;
    CHECK_RC(dha_updater_get_target(updater, LARGE_NAME, &target), DHA_OK);
    CHECK(dha_target_length(target) == LARGE_LENGTH);
    CHECK_RC(dha_updater_download_target(updater, target, dest), DHA_OK);
    /* The start, at most one call per whole MiB received (3) but at least
     * one, and the end. */
    CHECK(progress.calls_between >= 1 && progress.calls_between <= 3);
    CHECK(progress.calls == progress.calls_between + 2);
    CHECK(progress.last_done == LARGE_LENGTH && progress.total == LARGE_LENGTH);
    CHECK(strcmp(progress.target, LARGE_NAME) == 0);
    dha_target_free(target);
    dha_updater_free(updater);
}

int main(int argc, char **argv) {
    CHECK(argc == 14);
    good_repository(argv);
    expired_repository(argv);
    null_arguments(argv[2], argv[3]);
    large_target(argv);
    printf("ok updater\n");
    return 0;
}
