/*
 * check.h: the few helpers the C test programs share.
 *
 * A failed check prints where and what, with dha's last error detail, and
 * exits with status 1; the Rust driver (tests/tests/c_api.rs) shows the output.
 */
#ifndef DHA_TEST_CHECK_H
#define DHA_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dha.h"

/* The detail of the last failure on this thread, in a buffer of this thread
 * (threads.c calls it from several threads at once). */
static inline const char *test_detail(void) {
    static _Thread_local char detail[DHA_MESSAGE_MAX + 1];
    size_t written = 0;
    if (dha_last_error_detail(detail, sizeof detail, &written) != DHA_OK) {
        return "(dha_last_error_detail failed)";
    }
    return detail;
}

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* Calls `call` (a function returning dha_result) and checks its result. */
#define CHECK_RC(call, want)                                                              \
    do {                                                                                  \
        dha_result rc_ = (call);                                                          \
        if (rc_ != (dha_result)(want)) {                                                  \
            fprintf(stderr, "%s:%d: %s returned %u, wanted %s (%u); last detail: %s\n",   \
                    __FILE__, __LINE__, #call, (unsigned)rc_, #want, (unsigned)(want),    \
                    test_detail());                                                       \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

/* True when `haystack` contains `needle`. */
static inline int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

#endif /* DHA_TEST_CHECK_H */
