/*
 * boot.c: boot control through the C API over the file back end (the
 * test driver, tests/tests/c_api.rs, writes ENV with A running and good,
 * B empty):
 *
 * 1. status as JSON (with a size query first);
 * 2. switch to B (first in the order, armed), mark the running slot A
 *    good (slot NULL), mark B bad (out of the order, no tries);
 * 3. marking A bad too would leave no bootable slot: refused with
 *    DHA_ERR_BOOT_REFUSED, and the file is left as it was;
 * 4. an unknown slot, a slot name that cannot be written, and a missing
 *    environment file are refused; NULL arguments are refused; the free
 *    accepts NULL.
 *
 * Usage: boot ENV
 * The driver then checks ENV's final content.
 */
#include "check.h"

/* The status JSON of `boot`, in a malloc'd buffer of exactly its size. */
static char *status(const dha_boot *boot) {
    size_t needed = 0;
    CHECK_RC(dha_boot_status_json(boot, NULL, 0, &needed), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(needed > 1);
    char *json = malloc(needed);
    CHECK(json != NULL);
    /* One byte short: nothing copied, the size told again. */
    size_t again = 0;
    CHECK_RC(dha_boot_status_json(boot, json, needed - 1, &again), DHA_ERR_INSUFFICIENT_SIZE);
    CHECK(again == needed && json[0] == '\0');
    CHECK_RC(dha_boot_status_json(boot, json, needed, &again), DHA_OK);
    CHECK(strlen(json) + 1 == needed);
    return json;
}

/* The whole content of a small file, malloc'd. */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    char *buf = malloc(4096);
    CHECK(buf != NULL);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    CHECK(fclose(f) == 0);
    return buf;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    const char *env = argv[1];
    dha_boot *boot = NULL;
    CHECK_RC(dha_boot_new_file(env, &boot), DHA_OK);
    CHECK(boot != NULL);

    char *json = status(boot);
    CHECK(contains(json, "\"schema_version\":1"));
    CHECK(contains(json, "\"boot_order\":[\"A\",\"B\"]"));
    CHECK(contains(json, "\"booted\":\"A\""));
    CHECK(contains(json, "\"next_boot\":\"A\""));
    free(json);

    /* 2. */
    CHECK_RC(dha_boot_switch(boot, "B", 3), DHA_OK);
    json = status(boot);
    CHECK(contains(json, "\"boot_order\":[\"B\",\"A\"]"));
    CHECK(contains(json, "\"next_boot\":\"B\""));
    free(json);
    CHECK_RC(dha_boot_mark_good(boot, NULL, 5), DHA_OK); /* A, the running slot */
    CHECK_RC(dha_boot_mark_bad(boot, "B"), DHA_OK);
    json = status(boot);
    CHECK(contains(json, "\"boot_order\":[\"A\"]"));
    /* Keys in alphabetical order. */
    CHECK(contains(json, "{\"booted\":true,\"position\":1,\"slot\":\"A\",\"tries_left\":5}"));
    CHECK(contains(json, "{\"booted\":false,\"position\":null,\"slot\":\"B\",\"tries_left\":0}"));
    free(json);

    /* 3. */
    char *before = slurp(env);
    CHECK_RC(dha_boot_mark_bad(boot, "A"), DHA_ERR_BOOT_REFUSED);
    CHECK(contains(test_detail(), "no slot with tries left"));
    CHECK_RC(dha_boot_mark_bad(boot, NULL), DHA_ERR_BOOT_REFUSED);
    char *after = slurp(env);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);

    /* 4. */
    CHECK_RC(dha_boot_switch(boot, "C", 3), DHA_ERR_BOOT_REFUSED);
    CHECK(contains(test_detail(), "no slot C"));
    CHECK_RC(dha_boot_switch(boot, "A;reboot", 3), DHA_ERR_INVALID_ARGUMENT);
    CHECK_RC(dha_boot_switch(boot, "\xc3\x28", 3), DHA_ERR_INVALID_UTF8);
    CHECK_RC(dha_boot_switch(boot, NULL, 3), DHA_ERR_NULL_ARGUMENT);
    dha_boot *missing = NULL;
    CHECK_RC(dha_boot_new_file("/nonexistent/dha-bootenv", &missing), DHA_OK);
    size_t needed = 0;
    CHECK_RC(dha_boot_status_json(missing, NULL, 0, &needed), DHA_ERR_BOOT_READ);
    CHECK(contains(test_detail(), "/nonexistent/dha-bootenv"));
    CHECK_RC(dha_boot_mark_good(missing, "A", 3), DHA_ERR_BOOT_READ);
    dha_boot_free(missing);

    dha_boot *none = NULL;
    CHECK_RC(dha_boot_new_file(NULL, &none), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_boot_new_file(env, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_boot_new_grub(NULL, NULL, NULL, &none), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_boot_new_uboot(NULL, NULL, NULL, NULL), DHA_ERR_NULL_ARGUMENT);
    CHECK(none == NULL);
    CHECK_RC(dha_boot_mark_good(NULL, "A", 3), DHA_ERR_NULL_ARGUMENT);
    CHECK_RC(dha_boot_status_json(boot, NULL, 0, NULL), DHA_ERR_NULL_ARGUMENT);
    /* U-Boot: nothing is run until it is used. */
    CHECK_RC(dha_boot_new_uboot(NULL, NULL, NULL, &none), DHA_OK);
    dha_boot_free(none);

    dha_boot_free(boot);
    dha_boot_free(NULL);
    printf("ok boot\n");
    return 0;
}
