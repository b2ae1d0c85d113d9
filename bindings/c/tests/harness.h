/*
 * The C tests' one harness: cases with a name, CHECK that records a failure with its file,
 * line and case without stopping, and a whole file read into memory. Included once by each
 * test program (a single translation unit each).
 */
#ifndef CRMT_TEST_HARNESS_H
#define CRMT_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

/* The last error's message and field (the library's thread-local details), for checks. Needs
 * crm_tiering.h included first. */
static inline const char *last_message(void) {
    static char buf[4096];
    crmt_last_error_message(buf, sizeof buf, NULL);
    return buf;
}
static inline const char *last_field(void) {
    static char buf[256];
    crmt_last_error_field(buf, sizeof buf, NULL);
    return buf;
}

static int passed = 0;
static int failed = 0;
static int check_failed = 0; /* failures inside the current case */
static const char *current = "";

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            check_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d [%s] %s: ", __FILE__, __LINE__,   \
                    current, #cond);                                       \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

/* Starts the case `name`. */
static inline void begin(const char *name) {
    current = name;
    check_failed = 0;
}

/* Ends the current case: passed when none of its checks failed. */
static inline void end(void) {
    if (check_failed == 0) {
        passed++;
    } else {
        failed++;
    }
}

/* The whole file at `path`, NUL-terminated (its length in `*len` when `len` is not NULL); NULL
 * when it cannot be read. The caller frees it. */
static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len) *len = (size_t)n;
    }
    return buf;
}

#endif
