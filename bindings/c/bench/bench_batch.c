/*
 * Benchmark of the batch entry point from C: `customers` personal customers (default 1 000 000)
 * with a total AUM in fen, evaluated for three consecutive months with crmt_evaluate_batch.
 * Only the batch calls are timed (the columns are built before). The data generator is the
 * one of crates/crm-tiering-ffi/examples/bench_batch.rs, so the Rust figures compare directly.
 * Prints `c_batch_into <s month 1> <s month 2> <s month 3> <events>` for bench.sh.
 *
 *   bench_batch [customers] [threads]
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

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    size_t threads = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 1;
    const int32_t months[] = {202401, 202402, 202403};
    char *ids = malloc(n * 10 + 1);
    size_t *offsets = malloc((n + 1) * sizeof *offsets);
    int64_t *amounts = malloc(n * sizeof *amounts);
    crmt_result *errors = malloc(n * sizeof *errors);
    offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%010llu", 6221000000ULL + (unsigned long long)i);
        memcpy(ids + i * 10, id, 10);
        offsets[i + 1] = (i + 1) * 10;
    }
    crmt_batch_customers customers = {n, ids, offsets, NULL, NULL, NULL};
    crmt_rulebook *book = NULL;
    if (crmt_rulebook_default(&book) != CRMT_OK) return 1;
    /* One result handle for the whole run: its memory is reused month after month. */
    crmt_batch *batch = NULL;
    if (crmt_batch_new(&batch) != CRMT_OK) return 1;
    /* ROUNDS runs of the three months, each from new states; the best time of each month counts. */
    enum { ROUNDS = 3 };
    double best[3] = {1e9, 1e9, 1e9};
    size_t events = 0;
    crmt_states *states = NULL;
    for (int r = 0; r < ROUNDS; r++) {
        crmt_states_free(states);
        if (crmt_states_new(n, &states) != CRMT_OK) return 1;
        events = 0;
        for (size_t m = 0; m < 3; m++) {
            for (size_t i = 0; i < n; i++) amounts[i] = aum_fen(i, m);
            crmt_batch_aum aum = {0, NULL, amounts};
            double t = now();
            crmt_result rc = crmt_evaluate_batch_into(book, months[m], &customers, &aum, states, threads, errors, batch);
            double dt = now() - t;
            if (dt < best[m]) best[m] = dt;
            if (rc != CRMT_OK || crmt_batch_error_count(batch) != 0) {
                fprintf(stderr, "batch failed: %s\n", crmt_result_name(rc));
                return 1;
            }
            size_t count = 0;
            crmt_batch_events(batch, &count);
            events += count;
        }
    }
    crmt_batch_free(batch);
    /* One line for bench.sh: the best seconds of each month, then the events of a round. */
    printf("c_batch_into %.6f %.6f %.6f %zu\n", best[0], best[1], best[2], events);
    crmt_states_free(states);
    crmt_rulebook_free(book);
    free(ids);
    free(offsets);
    free(amounts);
    free(errors);
    return 0;
}
