/*
 * hooks.c: an event callback through the C API (issue 5: "register a
 * callback, trigger an integrity event, receive it with its userdata"), on
 * a tree the test driver (tests/tests/c_api.rs) made:
 *
 * 1. a callback is registered on a configuration for DHA_EVENT_INTEGRITY
 *    with a userdata, another for DHA_EVENT_UPDATE | DHA_EVENT_BOOT only;
 *    the configuration is freed once the integrity handle is made (the
 *    handle keeps the registrations);
 * 2. an integrity baseline of TREE; a check without a change calls
 *    nothing;
 * 3. TREE/watched.txt modified: the check calls the first callback once,
 *    with integrity.change, severity high, a JSON payload naming the file,
 *    its sequence number in the event log that the configuration names
 *    (WORK/events.log: the event and the callback's outcome are recorded
 *    there, and verify), and its own userdata; the second callback is not
 *    called;
 * 4. registration errors: NULL config or callback, an empty or unknown
 *    mask; dha_hooks_clear stops the calls.
 *
 * Usage: hooks TREE WORK
 * TREE holds watched.txt; WORK is an empty directory for the key and the
 * baseline.
 */
#include "check.h"

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    CHECK(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* What one callback saw. */
struct seen {
    const char *name; /* which registration: checked against the userdata */
    int calls;
    char kind[64];
    dha_severity severity;
    char payload[1024];
    bool logged;
    uint64_t seq;
};

static int on_event(void *userdata, const char *kind, dha_severity severity,
                    const char *payload_json, bool logged, uint64_t seq) {
    struct seen *s = userdata;
    CHECK(s != NULL && s->name != NULL);
    CHECK(kind != NULL && payload_json != NULL);
    s->logged = logged;
    s->seq = seq;
    s->calls++;
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    snprintf(s->payload, sizeof s->payload, "%s", payload_json);
    s->severity = severity;
    return 0;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

static void check(dha_integrity *integrity, const char *baseline, const char *key,
                  size_t want_changes) {
    dha_integrity_report *report = NULL;
    CHECK_RC(dha_integrity_check(integrity, baseline, key, false, &report), DHA_OK);
    CHECK(dha_integrity_report_change_count(report) == want_changes);
    dha_integrity_report_free(report);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    const char *tree = argv[1];
    char *watched = join(tree, "watched.txt");
    char *key = join(argv[2], "device.key");
    char *baseline = join(argv[2], "baseline");

    /* 1. */
    struct seen integrity_seen = {"integrity", 0, "", DHA_SEVERITY_INFO, "", false, 0};
    struct seen other_seen = {"other", 0, "", DHA_SEVERITY_INFO, "", false, 0};
    /* The configuration names an event log in WORK, made here. */
    char *log_path = join(argv[2], "events.log");
    char *log_key = join(argv[2], "events.key");
    char *initial = join(argv[2], "initial.key");
    CHECK_RC(dha_eventlog_keygen(initial), DHA_OK);
    dha_eventlog *log = NULL;
    CHECK_RC(dha_eventlog_create(log_path, log_key, initial, &log), DHA_OK);
    dha_eventlog_free(log);
    char toml[4096];
    int n = snprintf(toml, sizeof toml, "[eventlog]\npath = \"%s\"\nkey = \"%s\"\n", log_path,
                     log_key);
    CHECK(n > 0 && (size_t)n < sizeof toml);
    dha_config *config = NULL;
    CHECK_RC(dha_config_new_from_toml(toml, &config), DHA_OK);
    CHECK_RC(dha_hooks_register(config, DHA_EVENT_INTEGRITY, on_event, &integrity_seen), DHA_OK);
    CHECK_RC(dha_hooks_register(config, DHA_EVENT_UPDATE | DHA_EVENT_BOOT, on_event, &other_seen),
             DHA_OK);
    dha_integrity *integrity = NULL;
    CHECK_RC(dha_integrity_new(config, &integrity), DHA_OK);
    const char *paths[] = {tree};
    CHECK_RC(dha_integrity_set_paths(integrity, paths, 1), DHA_OK);

    /* 4 (on the live configuration), then it is freed. */
    CHECK_RC(dha_hooks_register(NULL, DHA_EVENT_ALL, on_event, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_hooks_register(config, DHA_EVENT_ALL, NULL, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_hooks_register(config, 0, on_event, NULL), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_hooks_register(config, 1u << 20, on_event, NULL), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_hooks_clear(NULL), DHA_ERR_NULL_ARGUMENT);
    dha_config_free(config);

    /* 2. */
    CHECK_RC(dha_integrity_keygen(key, DHA_SEAL_HMAC_SHA256), DHA_OK);
    uint64_t records = 0;
    CHECK_RC(dha_integrity_init(integrity, baseline, key, &records), DHA_OK);
    CHECK(records == 2);
    check(integrity, baseline, key, 0);
    CHECK(integrity_seen.calls == 0 && other_seen.calls == 0);

    /* 3. */
    write_file(watched, "tampered\n");
    check(integrity, baseline, key, 1);
    CHECK(integrity_seen.calls == 1);
    CHECK(strcmp(integrity_seen.name, "integrity") == 0);
    CHECK(strcmp(integrity_seen.kind, "integrity.change") == 0);
    CHECK(integrity_seen.severity == DHA_SEVERITY_HIGH);
    char want[1100];
    snprintf(want, sizeof want, "\"path\":\"%s\"", watched);
    CHECK(contains(integrity_seen.payload, want));
    CHECK(contains(integrity_seen.payload, "\"change\":\"modified\""));
    CHECK(contains(integrity_seen.payload, "sha256"));
    CHECK(other_seen.calls == 0);
    /* Logged before the callback: the log's first record. */
    CHECK(integrity_seen.logged && integrity_seen.seq == 0);
    size_t needed = 0;
    char report[8192];
    CHECK_RC(dha_eventlog_verify(log_path, initial, NULL, report, sizeof report, &needed), DHA_OK);
    /* The event and the outcome of the callbacks action. */
    CHECK(contains(report, "\"verified\":true") && contains(report, "\"records\":2"));
    printf("event\t%s\t%s\n", integrity_seen.kind, integrity_seen.payload);

    /* 4: dha_hooks_clear on a live configuration stops the calls of the
     * handles made from it. */
    dha_config *second = NULL;
    struct seen second_seen = {"second", 0, "", DHA_SEVERITY_INFO, "", false, 0};
    CHECK_RC(dha_config_new_default(&second), DHA_OK);
    CHECK_RC(dha_hooks_register(second, DHA_EVENT_ALL, on_event, &second_seen), DHA_OK);
    dha_integrity *again = NULL;
    CHECK_RC(dha_integrity_new(second, &again), DHA_OK);
    CHECK_RC(dha_integrity_set_paths(again, paths, 1), DHA_OK);
    CHECK_RC(dha_hooks_clear(second), DHA_OK);
    check(again, baseline, key, 1);
    CHECK(second_seen.calls == 0 && !second_seen.logged);
    dha_integrity_free(again);
    dha_config_free(second);

    dha_integrity_free(integrity);
    free(log_path);
    free(log_key);
    free(initial);
    free(watched);
    free(key);
    free(baseline);
    printf("ok hooks\n");
    return 0;
}
