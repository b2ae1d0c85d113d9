/*
 * A core system's monthly tiering run over the C ABI: the portfolio month.
 *
 *   monthly_batch RULES.toml PORTFOLIO.csv YYYY-MM STATES_IN STATES_OUT
 *
 * 1. loads the rule book;
 * 2. reads the portfolio extract (customer_id, legal_entity, customer_kind, month, then one
 *    column of monthly daily average per AUM component, decimal yuan): the rows of the month
 *    (as a month's extract would hold them) go into a crmt_extract, cell by cell under the
 *    resolved header; a row dated outside the declared month would hold its customer back;
 * 3. reads the prior states from the store (checked text keyed by customer id; a missing file
 *    means an empty portfolio);
 * 4. evaluates the declared month: rows are matched to stored customers by id;
 * 5. writes the new states back to the store and prints events, alerts and held customers.
 *
 * Money stays exact: amounts go from decimal text to the engine's decimals, never floats.
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
        fprintf(stderr, "usage: %s RULES.toml PORTFOLIO.csv YYYY-MM STATES_IN STATES_OUT\n", argv[0]);
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

    /* 2. The extract: the header resolved once, then every row's cells (bad rows are kept and
     * reported by the evaluation, their customers held back). */
    char *csv = read_file(argv[2], &len);
    if (!csv) { perror(argv[2]); return 1; }
    crmt_extract *extract = NULL;
    if (crmt_extract_new(book, &extract) != CRMT_OK) die("extract");
    crmt_columns *columns = NULL;
    int month_col = -1;
    uint64_t line_no = 0;
    for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n")) {
        line_no++;
        char *cells[MAX_COLS];
        int n = split(line, cells);
        if (line_no == 1) {
            for (int i = 0; i < n; i++) if (strcmp(cells[i], "month") == 0) month_col = i;
            if (crmt_columns_resolve(book, CRMT_TABLE_AUM, (const char *const *)cells, (size_t)n, &columns) != CRMT_OK)
                die("header");
            continue;
        }
        if (month_col >= 0 && month_col < n && strcmp(cells[month_col], argv[3]) != 0) continue; /* another month */
        if (crmt_extract_push_cells(extract, argv[2], columns, line_no, (const char *const *)cells, (size_t)n) != CRMT_OK)
            die("row");
    }

    /* 3. The prior states, keyed by customer id, checked against truncation and corruption. */
    crmt_portfolio *portfolio = NULL;
    char *stored = read_file(argv[4], &len);
    if (stored) {
        if (crmt_portfolio_from_text((const uint8_t *)stored, len, &portfolio) != CRMT_OK) die("stored states");
        free(stored);
    } else if (crmt_portfolio_new(&portfolio) != CRMT_OK) {
        die("portfolio");
    }

    /* 4. The declared month, for the whole portfolio, on 2 threads. */
    crmt_portfolio_options options = {CRMT_ABSENT_ZERO, false, 2};
    crmt_portfolio_result *result = NULL;
    if (crmt_portfolio_result_new(&result) != CRMT_OK) die("result");
    if (crmt_evaluate_portfolio(book, portfolio, month, 0, extract, &options, result) != CRMT_OK) die("portfolio month");

    /* 5. Store the new states, then report. */
    crmt_buffer *text = NULL;
    if (crmt_portfolio_to_text(portfolio, book, &text) != CRMT_OK) die("states");
    FILE *f = fopen(argv[5], "wb");
    if (!f || fwrite(crmt_buffer_data(text), 1, crmt_buffer_len(text), f) != crmt_buffer_len(text)) {
        perror(argv[5]);
        return 1;
    }
    fclose(f);
    crmt_buffer_free(text);

    size_t nev = 0, nal = 0, nval = 0, nerr = 0;
    const crmt_event *ev = crmt_portfolio_result_events(result, &nev);
    const crmt_alert *al = crmt_portfolio_result_alerts(result, &nal);
    crmt_portfolio_result_evaluated(result, &nval);
    const crmt_record_error *err = crmt_portfolio_result_errors(result, &nerr);
    printf("%s: %zu customers, %zu evaluated, %zu events, %zu alerts, %zu held\n", argv[3],
           crmt_portfolio_len(portfolio), nval, nev, nal, nerr);
    char id[72];
    for (size_t i = 0; i < nev; i++) {
        char a[32], t[32];
        crmt_portfolio_customer_id(portfolio, ev[i].customer_index, id, sizeof id, NULL);
        yuan(ev[i].aum_fen, a, sizeof a);
        yuan(ev[i].threshold_fen, t, sizeof t);
        printf("  event  %s %-20s %-10s %-9s -> %-9s from %d  (AUM %s, threshold %s, %s)\n", id,
               crmt_event_kind_code(ev[i].kind), crmt_event_kind_name_zh(ev[i].kind),
               ev[i].from_tier[0] ? ev[i].from_tier : "-", ev[i].to_tier[0] ? ev[i].to_tier : "-",
               ev[i].effective_from, a, t, crmt_reason_code(ev[i].reason));
    }
    for (size_t i = 0; i < nal; i++) {
        char a[32], g[32];
        crmt_portfolio_customer_id(portfolio, al[i].customer_index, id, sizeof id, NULL);
        yuan(al[i].aum_fen, a, sizeof a);
        yuan(al[i].gap_fen, g, sizeof g);
        printf("  alert  %s %-20s %-10s tier %-9s months left %2d  (AUM %s, gap %s)\n", id,
               crmt_alert_kind_code(al[i].kind), crmt_alert_kind_name_zh(al[i].kind), al[i].tier[0] ? al[i].tier : "-",
               al[i].months_left, a, g);
    }
    for (size_t k = 0; k < nerr; k++) {
        printf("  held   %s (%s, field %s, %s:%llu): %s\n", err[k].customer_id ? err[k].customer_id : "-",
               err[k].category, err[k].field ? err[k].field : "-", err[k].record_table ? err[k].record_table : "-",
               (unsigned long long)err[k].record_row, err[k].message);
    }

    crmt_portfolio_result_free(result);
    crmt_portfolio_free(portfolio);
    crmt_extract_free(extract);
    crmt_columns_free(columns);
    crmt_rulebook_free(book);
    free(csv);
    return 0;
}
