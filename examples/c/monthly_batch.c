/*
 * A core system's monthly tiering run over the C ABI.
 *
 *   monthly_batch RULES.toml PORTFOLIO.csv YYYY-MM STATES_IN.jsonl STATES_OUT.jsonl
 *
 * 1. loads the rule book;
 * 2. reads the month's rows of the portfolio extract (customer_id, legal_entity, kind, month,
 *    then one column of monthly daily average per AUM component, decimal yuan);
 * 3. reads the prior states from the store (JSON Lines, one per customer in extract order; a
 *    missing file means every customer is new);
 * 4. evaluates the whole portfolio in one batch call;
 * 5. writes the new states back to the store and prints events, alerts and rejected records.
 *
 * Money stays exact: amounts are parsed from decimal text straight into integer fen.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_tiering.h"

#define MAX_COLS 16

static void die(const char *what) {
    char msg[1024];
    crmt_last_error_message(msg, sizeof msg, NULL);
    fprintf(stderr, "%s: %s (%s)\n", what, msg, crmt_result_name(crmt_last_error_code()));
    exit(1);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); return NULL; }
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* "123456.7" -> 12345670 fen; returns 0 on text that is not a plain amount with <= 2 decimals. */
static int parse_fen(const char *s, int64_t *out) {
    int64_t v = 0, sign = 1;
    int decimals = -1, digits = 0;
    if (*s == '-') { sign = -1; s++; }
    for (; *s; s++) {
        if (*s == '.' && decimals < 0) { decimals = 0; continue; }
        if (*s < '0' || *s > '9' || decimals == 2) return 0;
        v = v * 10 + (*s - '0');
        digits++;
        if (decimals >= 0) decimals++;
    }
    if (!digits) return 0;
    for (int d = decimals < 0 ? 0 : decimals; d < 2; d++) v *= 10;
    *out = sign * v;
    return 1;
}

static int split(char *line, char **cols) {
    int n = 0;
    cols[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p == ',' && n < MAX_COLS) { *p = 0; cols[n++] = p + 1; }
        if (*p == '\n' || *p == '\r') *p = 0;
    }
    return n;
}

static void yuan(int64_t fen, char *buf, size_t len) {
    if (fen == CRMT_NO_AMOUNT) { snprintf(buf, len, "-"); return; }
    const char *sign = fen < 0 ? "-" : "";
    long long a = fen < 0 ? -(long long)fen : (long long)fen;
    snprintf(buf, len, "%s%lld.%02lld", sign, a / 100, a % 100);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s RULES.toml PORTFOLIO.csv YYYY-MM STATES_IN.jsonl STATES_OUT.jsonl\n", argv[0]);
        return 2;
    }
    int year = 0, mon = 0;
    if (sscanf(argv[3], "%d-%d", &year, &mon) != 2) { fprintf(stderr, "bad month %s\n", argv[3]); return 2; }
    int32_t month = year * 100 + mon;

    /* 1. The rule book: immutable, could be shared by every worker thread of the run. */
    size_t len = 0;
    char *rules = read_file(argv[1], &len);
    if (!rules) { perror(argv[1]); return 1; }
    crmt_rulebook *book = NULL;
    if (crmt_rulebook_from_toml((const uint8_t *)rules, len, &book) != CRMT_OK) die("rule book");
    free(rules);

    /* 2. The month's rows, as columns. */
    char *csv = read_file(argv[2], &len);
    if (!csv) { perror(argv[2]); return 1; }
    size_t cap = 64, count = 0, ids_len = 0, entities_len = 0, ncomp = 0;
    char *ids = malloc(len + 1), *entities = malloc(len + 1);
    size_t *id_off = malloc((cap + 1) * sizeof *id_off), *entity_off = malloc((cap + 1) * sizeof *entity_off);
    uint8_t *kinds = malloc(cap);
    int64_t *amounts = NULL;
    const char *components[MAX_COLS];
    char *header = NULL;
    id_off[0] = entity_off[0] = 0;
    for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n")) {
        char *cols[MAX_COLS];
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", line);
        int n = split(line, cols);
        if (!header) {
            header = line;
            ncomp = (size_t)(n - 4);
            for (size_t j = 0; j < ncomp; j++) components[j] = cols[4 + j];
            amounts = malloc(cap * ncomp * sizeof *amounts);
            continue;
        }
        if (n != (int)(4 + ncomp) || strcmp(cols[3], argv[3]) != 0) continue;
        if (count == cap) {
            cap *= 2;
            id_off = realloc(id_off, (cap + 1) * sizeof *id_off);
            entity_off = realloc(entity_off, (cap + 1) * sizeof *entity_off);
            kinds = realloc(kinds, cap);
            amounts = realloc(amounts, cap * ncomp * sizeof *amounts);
        }
        memcpy(ids + ids_len, cols[0], strlen(cols[0]));
        ids_len += strlen(cols[0]);
        memcpy(entities + entities_len, cols[1], strlen(cols[1]));
        entities_len += strlen(cols[1]);
        id_off[count + 1] = ids_len;
        entity_off[count + 1] = entities_len;
        kinds[count] = strcmp(cols[2], "corporate") == 0 ? CRMT_KIND_CORPORATE : CRMT_KIND_PERSONAL;
        for (size_t j = 0; j < ncomp; j++) {
            int64_t fen = CRMT_NO_AMOUNT;
            if (cols[4 + j][0] && !parse_fen(cols[4 + j], &fen)) {
                fprintf(stderr, "%s: `%s` is not an amount: %s left out\n", cols[0], cols[4 + j], components[j]);
                fen = CRMT_NO_AMOUNT;
            }
            amounts[count * ncomp + j] = fen;
        }
        count++;
    }
    crmt_batch_customers customers = {count, ids, id_off, entities, entity_off, kinds};
    crmt_batch_aum aum = {ncomp, components, amounts};

    /* 3. The prior states from the store. */
    crmt_states *states = NULL;
    char *stored = read_file(argv[4], &len);
    if (stored) {
        if (crmt_states_from_lines((const uint8_t *)stored, len, &states) != CRMT_OK) die("stored states");
        free(stored);
        if (crmt_states_len(states) != count) {
            fprintf(stderr, "the store holds %zu states for %zu customers\n", crmt_states_len(states), count);
            return 1;
        }
    } else if (crmt_states_new(count, &states) != CRMT_OK) {
        die("states");
    }

    /* 4. One call for the portfolio. */
    crmt_result *errors = malloc(count * sizeof *errors);
    crmt_batch *batch = NULL;
    if (crmt_evaluate_batch(book, month, &customers, &aum, states, 2, errors, &batch) != CRMT_OK) die("batch");

    /* 5. Store the new states, then report. */
    crmt_buffer *lines = NULL;
    if (crmt_states_to_lines(states, &lines) != CRMT_OK) die("states");
    FILE *f = fopen(argv[5], "wb");
    if (!f || fwrite(crmt_buffer_data(lines), 1, crmt_buffer_len(lines), f) != crmt_buffer_len(lines)) {
        perror(argv[5]);
        return 1;
    }
    fclose(f);
    crmt_buffer_free(lines);

    size_t nev = 0, nal = 0;
    const crmt_event *ev = crmt_batch_events(batch, &nev);
    const crmt_alert *al = crmt_batch_alerts(batch, &nal);
    printf("%s: %zu customers, %zu events, %zu alerts, %zu rejected\n", argv[3], count, nev, nal,
           crmt_batch_error_count(batch));
    for (size_t i = 0; i < nev; i++) {
        char a[32], t[32];
        uint32_t c = ev[i].customer_index;
        yuan(ev[i].aum_fen, a, sizeof a);
        yuan(ev[i].threshold_fen, t, sizeof t);
        printf("  event  %.*s %-20s %-10s %-9s -> %-9s from %d  (AUM %s, threshold %s, %s)\n",
               (int)(id_off[c + 1] - id_off[c]), ids + id_off[c], crmt_event_kind_code(ev[i].kind),
               crmt_event_kind_name_zh(ev[i].kind), ev[i].from_tier[0] ? ev[i].from_tier : "-",
               ev[i].to_tier[0] ? ev[i].to_tier : "-", ev[i].effective_from, a, t, crmt_reason_code(ev[i].reason));
    }
    for (size_t i = 0; i < nal; i++) {
        char a[32], g[32];
        uint32_t c = al[i].customer_index;
        yuan(al[i].aum_fen, a, sizeof a);
        yuan(al[i].gap_fen, g, sizeof g);
        printf("  alert  %.*s %-20s %-10s tier %-9s months left %2d  (AUM %s, gap %s)\n",
               (int)(id_off[c + 1] - id_off[c]), ids + id_off[c], crmt_alert_kind_code(al[i].kind),
               crmt_alert_kind_name_zh(al[i].kind), al[i].tier[0] ? al[i].tier : "-", al[i].months_left, a, g);
    }
    for (size_t k = 0; k < crmt_batch_error_count(batch); k++) {
        uint32_t c = 0;
        crmt_result code = CRMT_OK;
        char msg[512];
        crmt_batch_error_at(batch, k, &c, &code);
        crmt_batch_error_message(batch, c, msg, sizeof msg, NULL);
        printf("  reject %s: %s\n", crmt_result_name(code), msg);
    }

    crmt_batch_free(batch);
    crmt_states_free(states);
    crmt_rulebook_free(book);
    free(errors);
    free(amounts);
    free(kinds);
    free(id_off);
    free(entity_off);
    free(ids);
    free(entities);
    free(csv);
    return 0;
}
