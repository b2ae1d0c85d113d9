/*
 * The portfolio month from C: crmt_evaluate_portfolio over an extract filled by the bulk push
 * (crmt_extract_push_totals_fen, CHUNK customers per call), on the data of bench_batch.c (same
 * ids and amounts as the Java PortfolioBench). Each round starts from a new portfolio, runs
 * January (the customers join; not timed) and times February: the extract built from the
 * prepared columns, the evaluation, and the evaluated AUMs and events read. Best of 3 rounds.
 *
 * Usage: bench_portfolio [customers]   Prints: c_portfolio <best seconds> <events> <evaluated>
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crm_tiering.h"

enum { CHUNK = 65536, ROUNDS = 3 };

static int64_t aum_fen(uint64_t i, uint64_t m) {
    uint64_t x = ((i * 2654435761ULL) ^ (m * 40503ULL)) % 1000003ULL;
    return (int64_t)((x * x) / 250000ULL) * 100 + (int64_t)(i % 100);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char msg[1024];
static const char *last_message(void) {
    crmt_last_error_message(msg, sizeof msg, NULL);
    return msg;
}

/* One month: the extract from the columns, the evaluation; the sum of evaluated AUMs and the
 * number of events are read back (what a caller storing the results would touch). */
static int month(const crmt_rulebook *book, crmt_portfolio *p, crmt_portfolio_result *r, int32_t yyyymm, size_t n,
                 const char *ids, const size_t *offsets, const int64_t *fen, size_t *events, int64_t *sum) {
    crmt_extract *x = NULL;
    if (crmt_extract_new(book, &x) != CRMT_OK) return 1;
    for (size_t start = 0; start < n; start += CHUNK) {
        size_t m = n - start < CHUNK ? n - start : CHUNK;
        if (crmt_extract_push_totals_fen(x, "aum", start, m, ids, offsets + start, NULL, NULL, NULL, NULL,
                                         fen + start) != CRMT_OK) {
            fprintf(stderr, "push: %s\n", last_message());
            return 1;
        }
    }
    crmt_portfolio_options options = {CRMT_ABSENT_ZERO, false, 1};
    if (crmt_evaluate_portfolio(book, p, yyyymm, 0, x, &options, r) != CRMT_OK) {
        fprintf(stderr, "evaluate: %s\n", last_message());
        return 1;
    }
    size_t nv = 0, ne = 0, nerr = 0;
    const crmt_portfolio_evaluated *v = crmt_portfolio_result_evaluated(r, &nv);
    crmt_portfolio_result_events(r, &ne);
    crmt_portfolio_result_errors(r, &nerr);
    int64_t s = 0;
    for (size_t i = 0; i < nv; i++) s += v[i].aum_fen;
    *events = ne;
    *sum = s;
    crmt_extract_free(x);
    if (nerr != 0 || nv != n) {
        fprintf(stderr, "%zu errors, %zu evaluated\n", nerr, nv);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    char *ids = malloc(n * 10 + 1);
    size_t *offsets = malloc((n + 1) * sizeof *offsets);
    int64_t *jan = malloc(n * sizeof *jan), *feb = malloc(n * sizeof *feb);
    offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%010llu", 6221000000ULL + (unsigned long long)i);
        memcpy(ids + i * 10, id, 10);
        offsets[i + 1] = (i + 1) * 10;
        jan[i] = aum_fen(i, 0);
        feb[i] = aum_fen(i, 1);
    }
    crmt_rulebook *book = NULL;
    if (crmt_rulebook_default(&book) != CRMT_OK) return 1;
    crmt_portfolio_result *r = NULL;
    if (crmt_portfolio_result_new(&r) != CRMT_OK) return 1;
    double best = 1e9;
    size_t events = 0;
    int64_t sum = 0;
    for (int round = 0; round < ROUNDS; round++) {
        crmt_portfolio *p = NULL;
        if (crmt_portfolio_new(&p) != CRMT_OK) return 1;
        if (month(book, p, r, 202401, n, ids, offsets, jan, &events, &sum)) return 1;
        double t = now();
        if (month(book, p, r, 202402, n, ids, offsets, feb, &events, &sum)) return 1;
        double dt = now() - t;
        fprintf(stderr, "  c portfolio 2024-02: %.3f s\n", dt);
        if (dt < best) best = dt;
        crmt_portfolio_free(p);
    }
    printf("c_portfolio %.6f %zu %lld\n", best, events, (long long)sum);
    crmt_portfolio_result_free(r);
    crmt_rulebook_free(book);
    free(ids), free(offsets), free(jan), free(feb);
    return 0;
}
