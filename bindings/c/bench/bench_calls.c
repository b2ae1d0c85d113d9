/*
 * Benchmark of the per-customer entry points from C: the cost of one call where a core system
 * evaluates customer by customer (crmt_evaluate_total called per customer), so that the work done
 * at the boundary on every call (the panic guard, the handle checks, the error details) shows.
 *
 * `customers` personal customers (default 200 000), one crmt_state each, three months from new
 * states; best of ROUNDS rounds of each measure; the ids, the amounts and their decimal text are
 * made before the timing. Prints one line per measure, `<name> <ns per call> <events>`:
 *   total_fen      crmt_evaluate_total_fen, no outcome
 *   total_text     crmt_evaluate_total (a decimal string), no outcome
 *   total_outcome  crmt_evaluate_total_fen with an outcome, its events read, the outcome freed
 *   state_info     crmt_state_get_info (a call that does almost nothing but cross the boundary)
 *   buffer_len     crmt_buffer_len (an infallible accessor)
 *
 *   bench_calls [customers]
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crm_tiering.h"

static int64_t aum_fen(uint64_t i, uint64_t m) {
    uint64_t x = ((i * 2654435761ULL) ^ (m * 40503ULL)) % 1000003ULL;
    return (int64_t)((x * x) / 250000ULL) * 100 + (int64_t)(i % 100);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

enum { ROUNDS = 5, MONTHS = 3, KINDS = 3 };

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 200000;
    const int32_t months[MONTHS] = {202401, 202402, 202403};
    char (*ids)[24] = malloc(n * sizeof *ids);
    crmt_customer *customers = malloc(n * sizeof *customers);
    int64_t *fen = malloc(n * MONTHS * sizeof *fen);
    char (*text)[48] = malloc(n * MONTHS * sizeof *text);
    crmt_state **states = malloc(n * sizeof *states);
    if (!ids || !customers || !fen || !text || !states) return 1;
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "%010llu", 6221000000ULL + (unsigned long long)i);
        customers[i] = (crmt_customer){ids[i], NULL, CRMT_KIND_PERSONAL};
        for (size_t m = 0; m < MONTHS; m++) {
            int64_t f = aum_fen(i, m);
            fen[i * MONTHS + m] = f;
            snprintf(text[i * MONTHS + m], sizeof text[0], "%lld.%02lld", (long long)(f / 100), (long long)(f % 100));
        }
    }
    crmt_rulebook *book = NULL;
    if (crmt_rulebook_default(&book) != CRMT_OK) return 1;

    const char *names[KINDS] = {"total_fen", "total_text", "total_outcome"};
    double best[KINDS];
    size_t events[KINDS];
    for (int k = 0; k < KINDS; k++) {
        best[k] = 1e9;
        events[k] = 0;
        for (int r = 0; r < ROUNDS; r++) {
            for (size_t i = 0; i < n; i++) {
                if (crmt_state_new(&states[i]) != CRMT_OK) return 1;
            }
            size_t ev = 0;
            double t = now();
            for (size_t m = 0; m < MONTHS; m++) {
                for (size_t i = 0; i < n; i++) {
                    crmt_result rc;
                    if (k == 0) {
                        rc = crmt_evaluate_total_fen(book, &customers[i], states[i], months[m], fen[i * MONTHS + m], NULL);
                    } else if (k == 1) {
                        rc = crmt_evaluate_total(book, &customers[i], states[i], months[m], text[i * MONTHS + m], NULL);
                    } else {
                        crmt_outcome *o = NULL;
                        rc = crmt_evaluate_total_fen(book, &customers[i], states[i], months[m], fen[i * MONTHS + m], &o);
                        size_t count = 0;
                        crmt_outcome_events(o, &count);
                        ev += count;
                        crmt_outcome_free(o);
                    }
                    if (rc != CRMT_OK) {
                        fprintf(stderr, "%s failed: %s\n", names[k], crmt_result_name(rc));
                        return 1;
                    }
                }
            }
            double dt = now() - t;
            if (dt < best[k]) best[k] = dt;
            if (k == 2) events[k] = ev;
            for (size_t i = 0; i < n; i++) crmt_state_free(states[i]);
        }
        printf("%s %.1f %zu\n", names[k], best[k] * 1e9 / (double)(n * MONTHS), events[k]);
    }

    /* Calls that do almost nothing but cross the boundary. */
    for (size_t i = 0; i < n; i++) {
        if (crmt_state_new(&states[i]) != CRMT_OK) return 1;
    }
    crmt_buffer *buffer = NULL;
    if (crmt_state_to_bytes(states[0], &buffer) != CRMT_OK) return 1;
    double info_best = 1e9, len_best = 1e9;
    volatile size_t sink = 0; /* keeps the accessor calls */
    for (int r = 0; r < ROUNDS; r++) {
        crmt_state_info info;
        double t = now();
        for (size_t m = 0; m < MONTHS; m++) {
            for (size_t i = 0; i < n; i++) {
                if (crmt_state_get_info(states[i], &info) != CRMT_OK) return 1;
                sink += (size_t)info.status;
            }
        }
        double dt = now() - t;
        if (dt < info_best) info_best = dt;
        t = now();
        for (size_t i = 0; i < n * MONTHS; i++) sink += crmt_buffer_len(buffer);
        dt = now() - t;
        if (dt < len_best) len_best = dt;
    }
    printf("state_info %.1f %zu\n", info_best * 1e9 / (double)(n * MONTHS), (size_t)0);
    printf("buffer_len %.1f %zu\n", len_best * 1e9 / (double)(n * MONTHS), (size_t)0);
    crmt_buffer_free(buffer);
    for (size_t i = 0; i < n; i++) crmt_state_free(states[i]);
    crmt_rulebook_free(book);
    free(ids);
    free(customers);
    free(fen);
    free(text);
    free(states);
    return 0;
}
