/*
 * integrity.c: file integrity monitoring through the C API, on a tree the
 * test driver (tests/tests/c_api.rs) made:
 *
 * 1. keygen (Ed25519 and HMAC-SHA-256), public key export; an existing key
 *    file is never overwritten; an unknown kind is refused;
 * 2. init over the tree in test-rig mode (dha_integrity_set_paths), with a
 *    progress callback (called from worker threads);
 * 3. verify-baseline with the public key; a check finds no change;
 * 4. chmod and new content of one file: a full and a quick check each find
 *    exactly that change, through the change callback and the accessors
 *    (path, kind, severity, attribute names and values); the report's JSON
 *    goes to WORK/report.json for the driver to parse;
 * 5. a baseline with one byte flipped, and a key of another device, are
 *    refused with DHA_ERR_INTEGRITY_BASELINE_SEAL, and no report is made;
 * 6. restore: a.txt comes back from the known-good store filled by init
 *    (content and mode; a later check sees only its new inode and ctime,
 *    and the new mtime and ctime of its directory);
 *    a directory, a path the baseline does not know, and a handle without
 *    a store are refused;
 * 7. NULL arguments are refused; the frees accept NULL.
 *
 * Usage: integrity TREE WORK
 * TREE holds a.txt (mode 0644), sub/b.bin and nothing else; WORK is an empty
 * directory for keys, baselines and the report.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

/* The objects of TREE: itself, a.txt, sub, sub/b.bin. */
#define TREE_RECORDS 4u

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    CHECK(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* What the progress callback saw; it runs on worker threads. */
struct progress {
    atomic_uint calls;
    atomic_uint_fast64_t max_files;
};

static void on_progress(void *userdata, uint64_t files_done, uint64_t bytes_hashed) {
    struct progress *p = userdata;
    (void)bytes_hashed;
    atomic_fetch_add(&p->calls, 1u);
    uint_fast64_t seen = atomic_load(&p->max_files);
    while (files_done > seen && !atomic_compare_exchange_weak(&p->max_files, &seen, files_done)) {
    }
}

/* What the change callback saw (on the calling thread). */
struct changes {
    unsigned calls;
    char path[512];
    dha_change_kind kind;
    int saw_perm;
    int saw_sha256;
};

static void on_change(void *userdata, const dha_change *change) {
    struct changes *c = userdata;
    c->calls++;
    snprintf(c->path, sizeof c->path, "%s", dha_change_path(change));
    CHECK_RC(dha_change_kind_of(change, &c->kind), DHA_OK);
    for (size_t i = 0; i < dha_change_attr_count(change); i++) {
        const dha_attr_change *a = NULL;
        CHECK_RC(dha_change_attr(change, i, &a), DHA_OK);
        if (strcmp(dha_attr_change_attr(a), "perm") == 0) {
            c->saw_perm = 1;
        }
        if (strcmp(dha_attr_change_attr(a), "sha256") == 0) {
            c->saw_sha256 = 1;
        }
    }
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

/* Copies `from` to `to`, flipping the bits of the byte in the middle. */
static void copy_tampered(const char *from, const char *to) {
    FILE *f = fopen(from, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    CHECK(size > 16);
    CHECK(fseek(f, 0, SEEK_SET) == 0);
    unsigned char *buf = malloc((size_t)size);
    CHECK(buf != NULL);
    CHECK(fread(buf, 1, (size_t)size, f) == (size_t)size);
    CHECK(fclose(f) == 0);
    buf[size / 2] ^= 0xffu;
    FILE *g = fopen(to, "wb");
    CHECK(g != NULL);
    CHECK(fwrite(buf, 1, (size_t)size, g) == (size_t)size);
    CHECK(fclose(g) == 0);
    free(buf);
}

/* Runs a check expected to succeed and returns its report. */
static dha_integrity_report *check_ok(dha_integrity *h, const char *baseline, const char *key,
                                      bool quick) {
    dha_integrity_report *report = NULL;
    CHECK_RC(dha_integrity_check(h, baseline, key, quick, &report), DHA_OK);
    CHECK(report != NULL);
    CHECK(dha_integrity_report_problem_count(report) == 0);
    return report;
}

/* Checks the one change of `report`: a.txt, modified, perm 0644 -> 0600. */
static void expect_a_modified(const dha_integrity_report *report, const char *a_path) {
    CHECK(dha_integrity_report_change_count(report) == 1);
    const dha_change *change = NULL;
    CHECK_RC(dha_integrity_report_change(report, 0, &change), DHA_OK);
    CHECK(strcmp(dha_change_path(change), a_path) == 0);
    dha_change_kind kind = DHA_CHANGE_ADDED;
    CHECK_RC(dha_change_kind_of(change, &kind), DHA_OK);
    CHECK(kind == DHA_CHANGE_MODIFIED);
    dha_severity severity = DHA_SEVERITY_INFO;
    CHECK_RC(dha_change_severity(change, &severity), DHA_OK);
    CHECK(severity == DHA_SEVERITY_HIGH);
    CHECK(dha_change_old_type(change) == NULL && dha_change_new_type(change) == NULL);
    int perm = 0, sha = 0;
    for (size_t i = 0; i < dha_change_attr_count(change); i++) {
        const dha_attr_change *a = NULL;
        CHECK_RC(dha_change_attr(change, i, &a), DHA_OK);
        const char *name = dha_attr_change_attr(a);
        CHECK(name != NULL && dha_attr_change_old(a) != NULL && dha_attr_change_new(a) != NULL);
        CHECK(dha_attr_change_name(a) == NULL); /* no extended attribute changed */
        if (strcmp(name, "perm") == 0) {
            perm = 1;
            CHECK(contains(dha_attr_change_old(a), "644"));
            CHECK(contains(dha_attr_change_new(a), "600"));
        }
        if (strcmp(name, "sha256") == 0) {
            sha = 1;
            CHECK(strcmp(dha_attr_change_old(a), dha_attr_change_new(a)) != 0);
        }
    }
    CHECK(perm && sha);
    const dha_attr_change *none = NULL;
    CHECK_RC(dha_change_attr(change, dha_change_attr_count(change), &none),
             DHA_ERR_INDEX_OUT_OF_RANGE);
    CHECK(none == NULL);
    CHECK_RC(dha_integrity_report_change(report, 1, &change), DHA_ERR_INDEX_OUT_OF_RANGE);
}

static void save_json(const dha_integrity_report *report, const char *path) {
    size_t needed = 0;
    CHECK_RC(dha_integrity_report_to_json(report, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(needed > 1);
    char *json = malloc(needed);
    CHECK(json != NULL);
    /* One byte short: nothing copied, the empty string, the size told. */
    size_t again = 0;
    CHECK_RC(dha_integrity_report_to_json(report, json, needed - 1, &again),
             DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(again == needed && json[0] == '\0');
    CHECK_RC(dha_integrity_report_to_json(report, json, needed, &again), DHA_OK);
    CHECK(strlen(json) == needed - 1);
    CHECK(contains(json, "\"schema_version\""));
    write_text(path, json);
    free(json);
}

static void null_arguments(void) {
    uint64_t n = 0;
    dha_integrity *h = NULL;
    dha_integrity_report *r = NULL;
    CHECK_RC(dha_integrity_new(NULL, &h), DHA_ERR_NULL_ARGUMENT);
    CHECK(h == NULL);
    CHECK_RC(dha_integrity_set_paths(NULL, NULL, 0), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_integrity_set_progress_callback(NULL, NULL, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_integrity_set_change_callback(NULL, NULL, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_integrity_set_store(NULL, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_integrity_restore(NULL, "/x", "/y", "/z"), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_integrity_keygen(NULL, DHA_SEAL_ED25519), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_integrity_public_key(NULL, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_integrity_init(NULL, "/x", "/y", &n), DHA_ERR_NULL_ARGUMENT);
    CHECK(contains(test_detail(), "`integrity`"));
    CHECK_RC(dha_integrity_check(NULL, "/x", "/y", false, &r), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_integrity_verify_baseline("/x", NULL, &n), DHA_ERR_NULL_ARGUMENT);
    CHECK(contains(test_detail(), "`key_path`"));
    CHECK(r == NULL);
    CHECK(dha_integrity_report_change_count(NULL) == 0);
    CHECK(dha_integrity_report_problem_count(NULL) == 0);
    const dha_change *c = NULL;
    CHECK_RC(dha_integrity_report_change(NULL, 0, &c), DHA_ERR_NULL_ARGUMENT);
    size_t needed = 0;
    CHECK_RC(dha_integrity_report_to_json(NULL, NULL, 0, &needed), DHA_ERR_NULL_ARGUMENT);
    CHECK(dha_change_path(NULL) == NULL);
    CHECK(dha_change_attr_count(NULL) == 0);
    CHECK(dha_attr_change_attr(NULL) == NULL && dha_attr_change_new(NULL) == NULL);
    dha_change_kind kind;
    CHECK_RC(dha_change_kind_of(NULL, &kind), DHA_ERR_NULL_ARGUMENT);
    dha_integrity_free(NULL);
    dha_integrity_report_free(NULL);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    const char *tree = argv[1], *work = argv[2];
    char *key = join(work, "seal.key"), *pub = join(work, "seal.pub"),
         *hmac = join(work, "device.key"), *other = join(work, "other.key"),
         *baseline = join(work, "tree.baseline"), *tampered = join(work, "tampered.baseline"),
         *hmac_baseline = join(work, "hmac.baseline"), *json = join(work, "report.json"),
         *a_path = join(tree, "a.txt"), *store = join(work, "store"),
         *sub_path = join(tree, "sub"), *unknown_path = join(tree, "not-there");

    null_arguments();

    /* 1. Keys. */
    CHECK_RC(dha_integrity_keygen(key, DHA_SEAL_ED25519), DHA_OK);
    CHECK_RC(dha_integrity_keygen(key, DHA_SEAL_ED25519), DHA_ERR_INTEGRITY_KEY);
    CHECK(contains(test_detail(), "never overwritten"));
    CHECK_RC(dha_integrity_keygen(other, 99u), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_integrity_public_key(key, pub), DHA_OK);
    CHECK_RC(dha_integrity_keygen(hmac, DHA_SEAL_HMAC_SHA256), DHA_OK);
    CHECK_RC(dha_integrity_keygen(other, DHA_SEAL_ED25519), DHA_OK);
    struct stat st;
    CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);

    /* 2. Init in test-rig mode. */
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_default(&config), DHA_OK);
    dha_integrity *h = NULL;
    CHECK_RC(dha_integrity_new(config, &h), DHA_OK);
    dha_config_free(config); /* the handle keeps nothing of it */
    const char *paths[] = {tree};
    CHECK_RC(dha_integrity_set_paths(h, paths, 0), DHA_ERR_INVALID_ARGUMENT);
    const char *relative[] = {"relative/path"};
    CHECK_RC(dha_integrity_set_paths(h, relative, 1), DHA_ERR_INTEGRITY_POLICY);
    CHECK(contains(test_detail(), "paths[0]"));
    CHECK_RC(dha_integrity_set_paths(h, paths, 1), DHA_OK);
    CHECK_RC(dha_integrity_set_store(h, store), DHA_OK);
    struct progress progress;
    atomic_init(&progress.calls, 0u);
    atomic_init(&progress.max_files, 0u);
    CHECK_RC(dha_integrity_set_progress_callback(h, on_progress, &progress), DHA_OK);

    uint64_t records = 0;
    /* A public key cannot seal. */
    CHECK_RC(dha_integrity_init(h, baseline, pub, &records), DHA_ERR_INTEGRITY_KEY);
    CHECK_RC(dha_integrity_init(h, baseline, key, &records), DHA_OK);
    CHECK(records == TREE_RECORDS);
    CHECK(atomic_load(&progress.calls) >= 1u);
    CHECK(atomic_load(&progress.max_files) == TREE_RECORDS);

    /* 3. Verify and a clean check, with the public key. */
    records = 0;
    CHECK_RC(dha_integrity_verify_baseline(baseline, pub, &records), DHA_OK);
    CHECK(records == TREE_RECORDS);
    struct changes seen = {0, "", DHA_CHANGE_ADDED, 0, 0};
    CHECK_RC(dha_integrity_set_change_callback(h, on_change, &seen), DHA_OK);
    dha_integrity_report *report = check_ok(h, baseline, pub, false);
    CHECK(dha_integrity_report_change_count(report) == 0);
    CHECK(seen.calls == 0);
    dha_integrity_report_free(report);

    /* 4. chmod and new content (same size) of a.txt. */
    write_text(a_path, "ALPHA\n");
    CHECK(chmod(a_path, 0600) == 0);
    unsigned before = atomic_load(&progress.calls);
    report = check_ok(h, baseline, pub, false);
    CHECK(atomic_load(&progress.calls) > before);
    CHECK(seen.calls == 1);
    CHECK(strcmp(seen.path, a_path) == 0);
    CHECK(seen.kind == DHA_CHANGE_MODIFIED && seen.saw_perm && seen.saw_sha256);
    expect_a_modified(report, a_path);
    save_json(report, json);
    dha_integrity_report_free(report);

    /* The same in quick mode (ctime moved, so a.txt is rehashed); without
     * the change callback. */
    CHECK_RC(dha_integrity_set_change_callback(h, NULL, NULL), DHA_OK);
    report = check_ok(h, baseline, key, true);
    expect_a_modified(report, a_path);
    dha_integrity_report_free(report);
    CHECK(seen.calls == 1);

    /* 5. Tampered baseline, foreign key: refused, no report. */
    copy_tampered(baseline, tampered);
    report = NULL;
    CHECK_RC(dha_integrity_check(h, tampered, pub, false, &report),
             DHA_ERR_INTEGRITY_BASELINE_SEAL);
    CHECK(report == NULL);
    CHECK(contains(test_detail(), "tampered.baseline"));
    CHECK_RC(dha_integrity_verify_baseline(tampered, pub, &records),
             DHA_ERR_INTEGRITY_BASELINE_SEAL);
    CHECK_RC(dha_integrity_check(h, baseline, other, true, &report),
             DHA_ERR_INTEGRITY_BASELINE_SEAL);
    CHECK(report == NULL);
    CHECK(contains(test_detail(), "another key"));
    char message[DHA_MESSAGE_MAX + 1];
    size_t written = 0;
    CHECK_RC(dha_result_message(DHA_ERR_INTEGRITY_BASELINE_SEAL, message, sizeof message,
                                &written),
             DHA_OK);
    CHECK(contains(message, "baseline"));

    /* An HMAC device key seals and verifies. */
    CHECK_RC(dha_integrity_init(h, hmac_baseline, hmac, &records), DHA_OK);
    CHECK_RC(dha_integrity_verify_baseline(hmac_baseline, hmac, &records), DHA_OK);
    CHECK(records == TREE_RECORDS);
    CHECK_RC(dha_integrity_verify_baseline(hmac_baseline, pub, &records),
             DHA_ERR_INTEGRITY_BASELINE_SEAL);

    /* 6. Restore. */
    CHECK_RC(dha_integrity_restore(h, baseline, pub, a_path), DHA_OK);
    FILE *f = fopen(a_path, "rb");
    CHECK(f != NULL);
    char content[16] = "";
    CHECK(fread(content, 1, sizeof content - 1, f) == 6);
    CHECK(fclose(f) == 0);
    CHECK(strcmp(content, "alpha\n") == 0);
    CHECK(stat(a_path, &st) == 0 && (st.st_mode & 0777) == 0644);
    report = check_ok(h, baseline, pub, false);
    /* TREE itself (the rename changed its mtime and ctime), then a.txt. */
    CHECK(dha_integrity_report_change_count(report) == 2);
    const dha_change *change = NULL;
    CHECK_RC(dha_integrity_report_change(report, 0, &change), DHA_OK);
    CHECK(strcmp(dha_change_path(change), tree) == 0);
    CHECK_RC(dha_integrity_report_change(report, 1, &change), DHA_OK);
    CHECK(strcmp(dha_change_path(change), a_path) == 0);
    CHECK(dha_change_attr_count(change) >= 1);
    for (size_t i = 0; i < dha_change_attr_count(change); i++) {
        const dha_attr_change *a = NULL;
        CHECK_RC(dha_change_attr(change, i, &a), DHA_OK);
        const char *name = dha_attr_change_attr(a);
        CHECK(strcmp(name, "inode") == 0 || strcmp(name, "ctime") == 0);
    }
    dha_integrity_report_free(report);
    CHECK_RC(dha_integrity_restore(h, baseline, pub, sub_path), DHA_ERR_INTEGRITY_RESTORE_REFUSED);
    CHECK_RC(dha_integrity_restore(h, baseline, pub, unknown_path),
             DHA_ERR_INTEGRITY_RESTORE_REFUSED);
    CHECK(access(unknown_path, F_OK) != 0);
    CHECK_RC(dha_integrity_restore(h, tampered, pub, a_path), DHA_ERR_INTEGRITY_BASELINE_SEAL);
    CHECK_RC(dha_integrity_set_store(h, NULL), DHA_OK);
    CHECK_RC(dha_integrity_restore(h, baseline, pub, a_path), DHA_ERR_INTEGRITY_STORE);

    dha_integrity_free(h);
    free(store);
    free(sub_path);
    free(unknown_path);
    free(key);
    free(pub);
    free(hmac);
    free(other);
    free(baseline);
    free(tampered);
    free(hmac_baseline);
    free(json);
    free(a_path);
    printf("ok integrity\n");
    return 0;
}
