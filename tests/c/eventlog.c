/*
 * eventlog.c: the tamper-evident event log through the C API, in an empty
 * directory WORK that the test driver (tests/tests/c_api.rs) made:
 *
 * 1. keygen writes the initial key; a second keygen to the same file and a
 *    second create over the same log are refused;
 * 2. create, append three events (with and without payload), commit, read
 *    the head; reopen, append one more, commit;
 * 3. verify from the initial key and the head: intact, 4 records;
 * 4. a torn tail (two stray bytes): open refuses with
 *    DHA_ERR_EVENTLOG_TORN_TAIL naming the offset; truncate-and-record cuts
 *    them and records eventlog.tampered; verify: intact, 5 records;
 * 5. one byte of a record flipped: verify reports it (wrong tag) at its
 *    index;
 * 6. bad input: an unknown kind, a payload that is not a JSON object, a
 *    severity that is not one, a head that is not SEQ:HASH, NULLs.
 *
 * Usage: eventlog WORK
 */
#include "check.h"

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    CHECK(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The verify report of the log, malloc'd (size query first). */
static char *verify(const char *log, const char *initial, const char *head) {
    size_t needed = 0;
    CHECK_RC(dha_eventlog_verify(log, initial, head, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    char *json = malloc(needed);
    CHECK(json != NULL);
    CHECK_RC(dha_eventlog_verify(log, initial, head, json, needed, &needed), DHA_OK);
    return json;
}

static uint64_t append(dha_eventlog *log, const char *kind, uint32_t severity,
                       const char *payload) {
    uint64_t seq = UINT64_MAX;
    CHECK_RC(dha_eventlog_append(log, kind, severity, payload, &seq), DHA_OK);
    return seq;
}

/* Reads the file into a malloc'd buffer. */
static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    CHECK(size > 0);
    CHECK(fseek(f, 0, SEEK_SET) == 0);
    unsigned char *buf = malloc((size_t)size);
    CHECK(buf != NULL);
    CHECK(fread(buf, 1, (size_t)size, f) == (size_t)size);
    CHECK(fclose(f) == 0);
    *len = (size_t)size;
    return buf;
}

static void write_all(const char *path, const unsigned char *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(buf, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char *log_path = join(argv[1], "events.log");
    char *key_path = join(argv[1], "events.key");
    char *initial = join(argv[1], "initial.key");

    /* 1. */
    CHECK_RC(dha_eventlog_keygen(initial), DHA_OK);
    CHECK_RC(dha_eventlog_keygen(initial), DHA_ERR_EVENTLOG_EXISTS);

    /* 2. */
    dha_eventlog *log = NULL;
    CHECK_RC(dha_eventlog_create(log_path, key_path, initial, &log), DHA_OK);
    CHECK(log != NULL);
    char head[128];
    size_t needed = 0;
    CHECK_RC(dha_eventlog_head(log, head, sizeof head, &needed), DHA_OK);
    CHECK(head[0] == '\0' && needed == 1); /* nothing committed */
    CHECK(append(log, "integrity.change", DHA_SEVERITY_HIGH,
                 "{\"path\":\"/etc/passwd\",\"change\":\"modified\"}") == 0);
    CHECK(append(log, "boot.marked_good", DHA_SEVERITY_INFO, NULL) == 1);
    CHECK(append(log, "update.installed", DHA_SEVERITY_INFO, "{\"slot\":\"B\"}") == 2);
    CHECK_RC(dha_eventlog_commit(log), DHA_OK);
    CHECK_RC(dha_eventlog_head(log, head, sizeof head, &needed), DHA_OK);
    CHECK(strncmp(head, "2:", 2) == 0 && strlen(head) == 66 && needed == 67);
    /* Too small: nothing copied, the size told. */
    char tiny[8];
    CHECK_RC(dha_eventlog_head(log, tiny, sizeof tiny, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(tiny[0] == '\0' && needed == 67);
    dha_eventlog_free(log);
    /* Creation never overwrites. */
    dha_eventlog *twice = NULL;
    CHECK_RC(dha_eventlog_create(log_path, key_path, initial, &twice), DHA_ERR_EVENTLOG_EXISTS);
    CHECK(twice == NULL);

    log = NULL;
    CHECK_RC(dha_eventlog_open(log_path, key_path, &log), DHA_OK);
    char head2[128];
    CHECK_RC(dha_eventlog_head(log, head2, sizeof head2, &needed), DHA_OK);
    CHECK(strcmp(head, head2) == 0);
    CHECK(append(log, "audit.regression", DHA_SEVERITY_MEDIUM, "{\"check\":\"ssh.root\"}") == 3);
    CHECK_RC(dha_eventlog_commit(log), DHA_OK);
    CHECK_RC(dha_eventlog_head(log, head, sizeof head, &needed), DHA_OK);
    CHECK(strncmp(head, "3:", 2) == 0);

    /* 6 (on a live handle). */
    uint64_t seq = 0;
    CHECK_RC(dha_eventlog_append(log, "no.such.kind", 0, NULL, &seq), DHA_ERR_EVENT_UNKNOWN_KIND);
    CHECK(contains(test_detail(), "integrity.change"));
    CHECK_RC(dha_eventlog_append(log, "hook.outcome", 0, "[1,2]", &seq), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_eventlog_append(log, "hook.outcome", 0, "{\"a\":", &seq), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_eventlog_append(log, "hook.outcome", 9, NULL, &seq), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_eventlog_append(log, "hook.\xff", 0, NULL, &seq), DHA_ERR_INVALID_UTF8);
    CHECK_RC(dha_eventlog_append(log, NULL, 0, NULL, &seq), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_eventlog_append(log, "hook.outcome", 0, NULL, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_eventlog_append(NULL, "hook.outcome", 0, NULL, &seq), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_eventlog_commit(NULL), DHA_ERR_NULL_ARGUMENT);
    dha_eventlog_free(log);

    /* 3. */
    char *json = verify(log_path, initial, head);
    CHECK(contains(json, "\"verified\":true"));
    CHECK(contains(json, "\"records\":4"));
    CHECK(contains(json, "\"problem\":null"));
    free(json);

    /* 4. */
    size_t len = 0;
    unsigned char *bytes = read_all(log_path, &len);
    unsigned char *longer = malloc(len + 2);
    CHECK(longer != NULL);
    memcpy(longer, bytes, len);
    longer[len] = 0;
    longer[len + 1] = 0;
    write_all(log_path, longer, len + 2);
    free(longer);
    log = NULL;
    CHECK_RC(dha_eventlog_open(log_path, key_path, &log), DHA_ERR_EVENTLOG_TORN_TAIL);
    CHECK(log == NULL);
    char where[64];
    snprintf(where, sizeof where, "from byte %zu", len);
    CHECK(contains(test_detail(), where));
    uint64_t offset = 0, cut = 0;
    CHECK_RC(dha_eventlog_truncate_and_record(log_path, key_path, &log, &offset, &cut), DHA_OK);
    CHECK(log != NULL && offset == len && cut == 2);
    dha_eventlog_free(log);
    json = verify(log_path, initial, NULL);
    CHECK(contains(json, "\"verified\":true"));
    CHECK(contains(json, "\"records\":5"));
    free(json);
    free(bytes);

    /* 5. Flip one byte of record 0's payload ("/etc/passwd"). */
    bytes = read_all(log_path, &len);
    size_t at = 0;
    for (size_t i = 0; i + 5 <= len; i++) {
        if (memcmp(bytes + i, "/etc/", 5) == 0) {
            at = i;
            break;
        }
    }
    CHECK(at > 0);
    bytes[at + 1] ^= 0x20; /* "/Etc/" */
    write_all(log_path, bytes, len);
    free(bytes);
    json = verify(log_path, initial, NULL);
    CHECK(contains(json, "\"verified\":false"));
    CHECK(contains(json, "\"index\":0"));
    CHECK(contains(json, "wrong tag"));
    free(json);
    /* With the old head too. */
    json = verify(log_path, initial, head);
    CHECK(contains(json, "\"verified\":false"));
    free(json);

    /* 6. */
    CHECK_RC(dha_eventlog_verify(log_path, initial, "3:xyz", NULL, 0, &needed),
             DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_eventlog_verify(log_path, NULL, NULL, NULL, 0, &needed), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_eventlog_verify(log_path, "/nonexistent/initial.key", NULL, NULL, 0, &needed),
             DHA_ERR_EVENTLOG_IO);
    CHECK_RC(dha_eventlog_open(NULL, key_path, &log), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_eventlog_open(log_path, key_path, NULL), DHA_ERR_NULL_ARGUMENT);
    uint8_t short_key[16] = {0};
    CHECK_RC(dha_eventlog_create_from_bytes(log_path, key_path, short_key, sizeof short_key, &log),
             DHA_ERR_INVALID_ARGUMENT);
    dha_eventlog_free(NULL);

    free(log_path);
    free(key_path);
    free(initial);
    printf("ok eventlog\n");
    return 0;
}
