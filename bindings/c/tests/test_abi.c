/*
 * C tests of the crm-tiering ABI: every conformance vector of rules-spec/vectors/ (single
 * evaluations compared structurally with the vectors' expected JSON, plus struct accessors and
 * the batch entry point; the vectors whose book declares measures through the totals paths with
 * measure values too: the batch and a portfolio fed by the extract's bulk push), and the misuse cases (NULL, bad UTF-8, bad amounts, bad months,
 * out-of-order months, buffers too small, the panic boundary, frees of NULL).
 *
 * Usage: test_abi <rules-spec/vectors directory>
 * Prints one line per failure and a closing "N passed, N failed".
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crm_tiering.h"

#include "harness.h"

/* The thread's last error field, message and customer, in static buffers. */
static const char *last_customer(void) {
    static char buf[256];
    crmt_last_error_customer(buf, sizeof buf, NULL);
    return buf;
}

static int32_t month_of(const char *yyyy_mm) {
    int y = 0, m = 0;
    if (sscanf(yyyy_mm, "%d-%d", &y, &m) != 2) return 0;
    return y * 100 + m;
}

/* "123.45" -> 12345 fen; returns 0 and sets *ok = 0 when not representable with 2 decimals. */
static int64_t fen_of(const char *s, int *ok) {
    int64_t sign = 1, v = 0;
    int decimals = -1;
    *ok = 1;
    if (*s == '-') { sign = -1; s++; }
    for (; *s; s++) {
        if (*s == '.') { if (decimals >= 0) { *ok = 0; return 0; } decimals = 0; continue; }
        if (*s < '0' || *s > '9') { *ok = 0; return 0; }
        if (decimals >= 0 && ++decimals > 2) { if (*s != '0') { *ok = 0; return 0; } decimals = 2; continue; }
        v = v * 10 + (*s - '0');
    }
    if (decimals < 0) decimals = 0;
    while (decimals++ < 2) v *= 10;
    return sign * v;
}

static crmt_result category_code(const char *category) {
    if (strcmp(category, "rules") == 0) return CRMT_RULES_ERROR;
    if (strcmp(category, "input") == 0) return CRMT_INPUT_ERROR;
    if (strcmp(category, "sequence") == 0) return CRMT_SEQUENCE_ERROR;
    if (strcmp(category, "state") == 0) return CRMT_STATE_ERROR;
    return CRMT_OK;
}

static char *state_json(const crmt_state *s) {
    crmt_buffer *b = NULL;
    if (crmt_state_to_bytes(s, &b) != CRMT_OK) return NULL;
    char *copy = strdup((const char *)crmt_buffer_data(b));
    crmt_buffer_free(b);
    return copy;
}

static const char *str_or(const cJSON *o, const char *key, const char *fallback) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : fallback;
}

/* The struct renderings agree with the expected JSON events and alerts. */
static void check_structs(const cJSON *expected, const crmt_event *ev, size_t nev,
                          const crmt_alert *al, size_t nal, const char *month) {
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(expected, "events");
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(expected, "alerts");
    CHECK((size_t)cJSON_GetArraySize(events) == nev, "%s: %zu events", month, nev);
    CHECK((size_t)cJSON_GetArraySize(alerts) == nal, "%s: %zu alerts", month, nal);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, events) {
        if (i >= nev) break;
        int ok;
        CHECK(strcmp(crmt_event_kind_code(ev[i].kind), str_or(e, "kind", "?")) == 0, "%s: event %zu kind", month, i);
        CHECK(strcmp(crmt_reason_code(ev[i].reason), str_or(e, "reason", "?")) == 0, "%s: event %zu reason", month, i);
        CHECK(strcmp(ev[i].from_tier, str_or(e, "from_tier", "")) == 0, "%s: event %zu from_tier", month, i);
        CHECK(strcmp(ev[i].to_tier, str_or(e, "to_tier", "")) == 0, "%s: event %zu to_tier", month, i);
        CHECK(ev[i].month == month_of(str_or(e, "month", "")), "%s: event %zu month", month, i);
        CHECK(ev[i].effective_from == month_of(str_or(e, "effective_from", "")), "%s: event %zu effective", month, i);
        const cJSON *evidence = cJSON_GetObjectItemCaseSensitive(e, "evidence");
        int64_t aum = fen_of(str_or(evidence, "aum", "x"), &ok);
        CHECK(!ok || ev[i].aum_fen == aum, "%s: event %zu aum_fen %lld", month, i, (long long)ev[i].aum_fen);
        const char *th = str_or(evidence, "threshold", NULL);
        if (th) {
            int64_t t = fen_of(th, &ok);
            CHECK(!ok || ev[i].threshold_fen == t, "%s: event %zu threshold", month, i);
        } else {
            CHECK(ev[i].threshold_fen == CRMT_NO_AMOUNT, "%s: event %zu threshold none", month, i);
        }
        /* The measure that decided (SPEC §19.3): its code, and its value when there is one. */
        CHECK(strcmp(ev[i].measure, str_or(evidence, "measure", "")) == 0, "%s: event %zu measure", month, i);
        CHECK(strcmp(ev[i].measure_window, str_or(evidence, "measure_window", "")) == 0, "%s: event %zu window", month, i);
        const char *mv = str_or(evidence, "measure_value", NULL);
        CHECK(mv ? ev[i].measure_value_fen == fen_of(mv, &ok) : ev[i].measure_value_fen == CRMT_NO_AMOUNT,
              "%s: event %zu measure_value", month, i);
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(e, alerts) {
        if (i >= nal) break;
        int ok;
        CHECK(strcmp(crmt_alert_kind_code(al[i].kind), str_or(e, "kind", "?")) == 0, "%s: alert %zu kind", month, i);
        CHECK(strcmp(al[i].tier, str_or(e, "tier", "")) == 0, "%s: alert %zu tier", month, i);
        const cJSON *left = cJSON_GetObjectItemCaseSensitive(e, "months_left");
        CHECK(al[i].months_left == (cJSON_IsNumber(left) ? left->valueint : -1), "%s: alert %zu left", month, i);
        int64_t aum = fen_of(str_or(e, "aum", "x"), &ok);
        CHECK(!ok || al[i].aum_fen == aum, "%s: alert %zu aum", month, i);
        const char *gap = str_or(e, "gap", NULL);
        if (gap) {
            int64_t g = fen_of(gap, &ok);
            CHECK(!ok || al[i].gap_fen == g, "%s: alert %zu gap", month, i);
        }
        CHECK(strcmp(al[i].measure, str_or(e, "measure", "")) == 0, "%s: alert %zu measure", month, i);
        CHECK(strcmp(al[i].measure_window, str_or(e, "measure_window", "")) == 0, "%s: alert %zu window", month, i);
        const char *mv = str_or(e, "measure_value", NULL);
        CHECK(mv ? al[i].measure_value_fen == fen_of(mv, &ok) : al[i].measure_value_fen == CRMT_NO_AMOUNT,
              "%s: alert %zu measure_value", month, i);
        i++;
    }
}

/* One vector through crmt_evaluate_json, month by month. */
static void run_vector_single(const char *name, const cJSON *v) {
    char label[512];
    snprintf(label, sizeof label, "vector %s", name);
    begin(label);
    char *rules = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(v, "rules"));
    crmt_rulebook *book = NULL;
    crmt_result rc = crmt_rulebook_from_json((const uint8_t *)rules, rules ? strlen(rules) : 0, &book);
    free(rules);
    const cJSON *rules_error = cJSON_GetObjectItemCaseSensitive(v, "expect_rules_error");
    if (rules_error) {
        CHECK(rc == CRMT_RULES_ERROR, "expected a rules error, got %s", crmt_result_name(rc));
        CHECK(book == NULL, "no handle on error");
        CHECK(strcmp(last_field(), str_or(rules_error, "field", "")) == 0, "field `%s`, expected `%s`: %s",
              last_field(), str_or(rules_error, "field", ""), last_message());
        crmt_rulebook_free(book);
        end();
        return;
    }
    CHECK(rc == CRMT_OK, "rule book: %s %s", crmt_result_name(rc), last_message());
    if (rc != CRMT_OK) { end(); return; }
    const cJSON *options = cJSON_GetObjectItemCaseSensitive(v, "options");
    if (options && strcmp(str_or(options, "missing_months", "error"), "treat_as_zero") == 0) {
        crmt_rulebook *b2 = NULL;
        CHECK(crmt_rulebook_with_missing_months(book, CRMT_MISSING_MONTHS_TREAT_AS_ZERO, &b2) == CRMT_OK, "options");
        crmt_rulebook_free(book);
        book = b2;
    }
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(v, "customer");
    crmt_customer customer = {
        .id = str_or(cust, "id", ""),
        .legal_entity = str_or(cust, "legal_entity", NULL),
        .kind = strcmp(str_or(cust, "kind", "personal"), "corporate") == 0 ? CRMT_KIND_CORPORATE : CRMT_KIND_PERSONAL,
    };
    crmt_state *state = NULL;
    const cJSON *initial = cJSON_GetObjectItemCaseSensitive(v, "initial_state");
    if (initial && !cJSON_IsNull(initial)) {
        char *text = cJSON_PrintUnformatted(initial);
        rc = crmt_state_from_bytes((const uint8_t *)text, strlen(text), &state);
        CHECK(rc == CRMT_OK, "initial state: %s", last_message());
        free(text);
    } else {
        rc = crmt_state_new(&state);
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(v, "months")) {
        if (!state) break;
        const char *month_text = str_or(m, "month", "");
        int32_t month = month_of(month_text);
        char *input = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(m, "input"));
        char *before = state_json(state);
        crmt_outcome *out = NULL;
        rc = crmt_evaluate_json(book, &customer, state, month, (const uint8_t *)input, strlen(input), &out);
        free(input);
        const cJSON *want_error = cJSON_GetObjectItemCaseSensitive(m, "expect_error");
        if (want_error) {
            crmt_result want = category_code(str_or(want_error, "category", ""));
            CHECK(rc == want, "%s: expected %s, got %s (%s)", month_text, crmt_result_name(want), crmt_result_name(rc),
                  last_message());
            const char *field = str_or(want_error, "field", NULL);
            if (field && want == CRMT_INPUT_ERROR) {
                CHECK(strcmp(last_field(), field) == 0, "%s: field `%s`, expected `%s`", month_text, last_field(), field);
            }
            if (want != CRMT_RULES_ERROR) {
                CHECK(strcmp(last_customer(), customer.id) == 0, "%s: error names `%s`", month_text, last_customer());
            }
            CHECK(out == NULL, "%s: no outcome on error", month_text);
            char *after = state_json(state);
            CHECK(after && before && strcmp(before, after) == 0, "%s: state changed on error", month_text);
            free(after);
        } else {
            CHECK(rc == CRMT_OK, "%s: %s %s", month_text, crmt_result_name(rc), last_message());
            const cJSON *expected = cJSON_GetObjectItemCaseSensitive(m, "expected");
            if (rc == CRMT_OK && expected) {
                crmt_buffer *json = NULL;
                CHECK(crmt_outcome_to_json(out, &json) == CRMT_OK, "to_json");
                cJSON *got = cJSON_Parse((const char *)crmt_buffer_data(json));
                CHECK(got && cJSON_Compare(expected, got, 1), "%s: outcome differs:\n  expected %s\n  got      %s",
                      month_text, cJSON_PrintUnformatted(expected), (const char *)crmt_buffer_data(json));
                cJSON_Delete(got);
                crmt_buffer_free(json);
                size_t nev = 0, nal = 0;
                const crmt_event *ev = crmt_outcome_events(out, &nev);
                const crmt_alert *al = crmt_outcome_alerts(out, &nal);
                check_structs(expected, ev, nev, al, nal, month_text);
                int ok;
                int64_t aum = fen_of(str_or(expected, "aum", "x"), &ok);
                CHECK(!ok || crmt_outcome_aum_fen(out) == aum, "%s: aum_fen", month_text);
                char aum_text[64];
                CHECK(crmt_outcome_aum(out, aum_text, sizeof aum_text, NULL) == CRMT_OK &&
                          strcmp(aum_text, str_or(expected, "aum", "")) == 0, "%s: aum text %s", month_text, aum_text);
                /* The state round-trips through bytes, and the outcome's copy is the new state. */
                char *now = state_json(state);
                char *copy = state_json(crmt_outcome_state(out));
                CHECK(now && copy && strcmp(now, copy) == 0, "%s: outcome state", month_text);
                crmt_state *back = NULL;
                CHECK(crmt_state_from_bytes((const uint8_t *)now, strlen(now), &back) == CRMT_OK, "round trip");
                char *again = state_json(back);
                CHECK(again && strcmp(again, now) == 0, "%s: state round trip", month_text);
                free(again);
                crmt_state_free(back);
                free(now);
                free(copy);
            }
        }
        free(before);
        crmt_outcome_free(out);
    }
    crmt_state_free(state);
    crmt_rulebook_free(book);
    end();
}

/* Whether some version of a vector's rules declares measures besides AUM (SPEC §19.1); an
 * invalid book (expect_rules_error) declares none that a batch could read. */
static int declares_measures(const cJSON *v) {
    const cJSON *set, *version;
    if (cJSON_GetObjectItemCaseSensitive(v, "expect_rules_error")) return 0;
    cJSON_ArrayForEach(set, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v, "rules"), "rule_sets")) {
        cJSON_ArrayForEach(version, cJSON_GetObjectItemCaseSensitive(set, "versions")) {
            if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(version, "measures")) > 0) return 1;
        }
    }
    return 0;
}

/* A batch of totals carries AUM alone: it refuses a book that reads other measures, rather
 * than tier every customer as if they were absent. */
static void batch_refuses_measures(const char *name, const cJSON *v) {
    char label[512];
    snprintf(label, sizeof label, "batch refuses %s", name);
    begin(label);
    char *rules = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(v, "rules"));
    crmt_rulebook *book = NULL;
    CHECK(crmt_rulebook_from_json((const uint8_t *)rules, strlen(rules), &book) == CRMT_OK, "rules");
    free(rules);
    const char ids[] = "c1";
    size_t id_off[2] = {0, 2};
    crmt_batch_customers customers = {1, ids, id_off, NULL, NULL, NULL};
    int64_t amounts[1] = {100000000};
    crmt_batch_aum aum = {0, NULL, amounts};
    crmt_states *states = NULL;
    CHECK(crmt_states_new(1, &states) == CRMT_OK, "states");
    crmt_result errors[1];
    crmt_batch *batch = NULL;
    crmt_result rc = crmt_evaluate_batch(book, 202401, &customers, &aum, states, 1, errors, &batch);
    CHECK(rc == CRMT_INVALID_ARGUMENT, "expected invalid argument, got %s", crmt_result_name(rc));
    CHECK(strcmp(last_field(), "book") == 0, "field `%s`", last_field());
    crmt_batch_free(batch);
    crmt_states_free(states);
    crmt_rulebook_free(book);
    end();
}

/* A batch of components carries a measure as a column named by its code (SPEC §19.1): the 光大
 * gallery book, private banking by AUM or loans. */
static void test_batch_measure_columns(const char *vectors) {
    begin("batch with a measure column");
    char path[4096];
    snprintf(path, sizeof path, "%s/../gallery/cebbank-private.toml", vectors);
    size_t len = 0;
    char *text = read_file(path, &len);
    crmt_rulebook *book = NULL;
    CHECK(text && crmt_rulebook_from_toml((const uint8_t *)text, len, &book) == CRMT_OK, "book: %s", last_message());
    free(text);
    const char ids[] = "c1c2";
    size_t id_off[] = {0, 2, 4};
    crmt_batch_customers customers = {2, ids, id_off, NULL, NULL, NULL};
    const char *codes[] = {"demand_deposit", "loan_balance"};
    /* c1: 1,000,000 of deposits and a loan of 6,500,000; c2: the same deposits, no loan value. */
    int64_t amounts[] = {100000000, 650000000, 100000000, CRMT_NO_AMOUNT};
    crmt_batch_aum aum = {2, codes, amounts};
    crmt_states *states = NULL;
    CHECK(crmt_states_new(2, &states) == CRMT_OK, "states");
    crmt_result errors[2];
    crmt_batch *batch = NULL;
    CHECK(crmt_evaluate_batch(book, 202401, &customers, &aum, states, 1, errors, &batch) == CRMT_OK, "%s", last_message());
    size_t nev = 0;
    const crmt_event *ev = batch ? crmt_batch_events(batch, &nev) : NULL;
    CHECK(nev == 2, "%zu events", nev);
    if (nev == 2) {
        CHECK(strcmp(ev[0].to_tier, "private") == 0 && strcmp(ev[0].measure, "loan_balance") == 0 &&
                  ev[0].measure_value_fen == 650000000 && ev[0].aum_fen == 100000000,
              "c1 enters private by its loan: %s %s", ev[0].to_tier, ev[0].measure);
        CHECK(strcmp(ev[1].to_tier, "platinum") == 0 && strcmp(ev[1].measure, "aum") == 0, "c2 platinum by AUM: %s",
              ev[1].to_tier);
    }
    crmt_batch_free(batch);
    crmt_states_free(states);
    crmt_rulebook_free(book);
    end();
}

/* The most measures a month of a vector gives, for the runners of totals with measures. */
enum { MAX_MEASURES = 8 };

/* Totals with measures (crmt_measure_columns), by the batch and by the extract's bulk push: each
 * customer's value is its own (c1 a loan of 6,500,000, c2 none), and a code the book does not
 * declare, or that names no measure, refuses the call naming it. */
static void test_totals_with_measures(const char *vectors) {
    begin("totals with measures");
    char path[4096];
    snprintf(path, sizeof path, "%s/../gallery/cebbank-private.toml", vectors);
    size_t len = 0;
    char *text = read_file(path, &len);
    crmt_rulebook *book = NULL;
    CHECK(text && crmt_rulebook_from_toml((const uint8_t *)text, len, &book) == CRMT_OK, "book: %s", last_message());
    free(text);
    const char ids[] = "c1c2";
    size_t id_off[] = {0, 2, 4};
    crmt_batch_customers customers = {2, ids, id_off, NULL, NULL, NULL};
    int64_t totals[] = {100000000, 100000000};
    crmt_batch_aum aum = {0, NULL, totals};
    const char *codes[] = {"loan_balance"};
    int64_t values[] = {650000000, CRMT_NO_AMOUNT};
    crmt_measure_columns measures = {1, codes, values};
    crmt_states *states = NULL;
    CHECK(crmt_states_new(2, &states) == CRMT_OK, "states");
    crmt_result errors[2];
    crmt_batch *batch = NULL;
    const char *unknown[] = {"mortgage"}, *not_measure[] = {"month"}, *null_code[] = {NULL};
    crmt_measure_columns bad = {1, unknown, values};
    crmt_result rc = crmt_evaluate_batch_with_measures(book, 202401, &customers, &aum, &bad, states, 1, errors, &batch);
    CHECK(rc == CRMT_INPUT_ERROR && strcmp(last_field(), "mortgage") == 0 && strstr(last_message(), "mortgage") &&
              batch == NULL,
          "unknown code: %s `%s` %s", crmt_result_name(rc), last_field(), last_message());
    bad.measures = not_measure;
    rc = crmt_evaluate_batch_with_measures(book, 202401, &customers, &aum, &bad, states, 1, errors, &batch);
    CHECK(rc == CRMT_INPUT_ERROR && strcmp(last_field(), "month") == 0, "not a measure: %s `%s`",
          crmt_result_name(rc), last_field());
    bad.measures = null_code;
    rc = crmt_evaluate_batch_with_measures(book, 202401, &customers, &aum, &bad, states, 1, errors, &batch);
    CHECK(rc == CRMT_NULL_ARGUMENT, "null code: %s", crmt_result_name(rc));
    /* NULL measures is crmt_evaluate_batch: the book's measures refuse a batch of totals. */
    rc = crmt_evaluate_batch_with_measures(book, 202401, &customers, &aum, NULL, states, 1, errors, &batch);
    CHECK(rc == CRMT_INVALID_ARGUMENT && strcmp(last_field(), "book") == 0, "null measures: %s", crmt_result_name(rc));
    rc = crmt_evaluate_batch_with_measures(book, 202401, &customers, &aum, &measures, states, 1, errors, &batch);
    CHECK(rc == CRMT_OK, "batch: %s", last_message());
    size_t nev = 0;
    const crmt_event *ev = batch ? crmt_batch_events(batch, &nev) : NULL;
    CHECK(nev == 2 && strcmp(ev[0].to_tier, "private") == 0 && strcmp(ev[0].measure, "loan_balance") == 0 &&
              ev[0].measure_value_fen == 650000000 && strcmp(ev[1].to_tier, "platinum") == 0,
          "batch: c1 private by its loan, c2 platinum by AUM (%zu events)", nev);
    crmt_batch_free(batch);
    crmt_states_free(states);

    crmt_extract *x = NULL;
    crmt_portfolio *p = NULL;
    crmt_portfolio_result *r = NULL;
    CHECK(crmt_extract_new(book, &x) == CRMT_OK && crmt_portfolio_new(&p) == CRMT_OK &&
              crmt_portfolio_result_new(&r) == CRMT_OK, "handles");
    bad.measures = unknown;
    rc = crmt_extract_push_totals_with_measures_fen(x, book, "aum", 1, 2, ids, id_off, NULL, NULL, NULL, NULL, totals, &bad);
    CHECK(rc == CRMT_INPUT_ERROR && strcmp(last_field(), "mortgage") == 0, "extract, unknown code: %s `%s`",
          crmt_result_name(rc), last_field());
    rc = crmt_extract_push_totals_with_measures_fen(x, NULL, "aum", 1, 2, ids, id_off, NULL, NULL, NULL, NULL, totals,
                                                    &measures);
    CHECK(rc == CRMT_NULL_ARGUMENT, "extract, null book: %s", crmt_result_name(rc));
    rc = crmt_extract_push_totals_with_measures_fen(x, book, "aum", 1, 2, ids, id_off, NULL, NULL, NULL, NULL, totals,
                                                    &measures);
    CHECK(rc == CRMT_OK, "extract: %s", last_message());
    /* Nothing was recorded by the refused pushes: c1 and c2 have one record each. */
    CHECK(crmt_evaluate_portfolio(book, p, 202401, 0, x, NULL, r) == CRMT_OK, "evaluate: %s", last_message());
    ev = crmt_portfolio_result_events(r, &nev);
    CHECK(nev == 2 && strcmp(ev[0].to_tier, "private") == 0 && strcmp(ev[0].measure, "loan_balance") == 0 &&
              strcmp(ev[1].to_tier, "platinum") == 0 && strcmp(ev[1].measure, "aum") == 0,
          "extract: c1 private by its loan, c2 platinum by AUM (%zu events)", nev);
    crmt_portfolio_result_free(r);
    crmt_portfolio_free(p);
    crmt_extract_free(x);
    crmt_rulebook_free(book);
    end();
}

/* Whether every month of a vector has a total AUM with at most two decimals and no special:
 * with `measures`, measure values (at most MAX_MEASURES, each with at most two decimals) are
 * allowed too; without, neither given measures nor a book that declares some. */
static int totals_input(const cJSON *v, int measures) {
    if (cJSON_GetObjectItemCaseSensitive(v, "expect_rules_error")) return 0;
    if (!measures && declares_measures(v)) return 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(v, "months")) {
        const cJSON *input = cJSON_GetObjectItemCaseSensitive(m, "input");
        if (cJSON_GetObjectItemCaseSensitive(input, "special")) return 0;
        const cJSON *given = cJSON_GetObjectItemCaseSensitive(input, "measures");
        if (given && !measures) return 0;
        if (cJSON_GetArraySize(given) > MAX_MEASURES) return 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, given) {
            int ok;
            if (!cJSON_IsString(e)) return 0;
            fen_of(e->valuestring, &ok);
            if (!ok) return 0;
        }
        const char *total = str_or(cJSON_GetObjectItemCaseSensitive(input, "aum"), "total", NULL);
        int ok;
        if (!total) return 0;
        fen_of(total, &ok);
        if (!ok) return 0;
    }
    return 1;
}

/* Measure columns for `n` records from a month's input: the codes it gives, each value repeated
 * for every record (`values` holds MAX_MEASURES * n entries). */
static crmt_measure_columns month_measures(const cJSON *input, size_t n, const char **codes, int64_t *values) {
    size_t k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(input, "measures")) {
        if (k == MAX_MEASURES) break;
        int ok;
        int64_t fen = fen_of(e->valuestring, &ok);
        codes[k] = e->string;
        for (size_t i = 0; i < n; i++) values[k * n + i] = fen;
        k++;
    }
    return (crmt_measure_columns){k, codes, values};
}

/* A month whose expected error is a measure the book does not declare: the totals paths refuse
 * the call as a whole (CRMT_INPUT_ERROR, the field naming the code) where a single evaluation
 * fails the customer (field `measures.<code>`). True when the call was refused so. */
static int refused_measure(crmt_result rc, const cJSON *m, const char *month_text) {
    const cJSON *want_error = cJSON_GetObjectItemCaseSensitive(m, "expect_error");
    if (rc == CRMT_OK || !want_error) return 0;
    char field[256];
    snprintf(field, sizeof field, "measures.%s", last_field());
    CHECK(rc == category_code(str_or(want_error, "category", "")) && rc == CRMT_INPUT_ERROR,
          "%s: refused with %s", month_text, crmt_result_name(rc));
    CHECK(strcmp(field, str_or(want_error, "field", "")) == 0, "%s: field `%s` (%s)", month_text, field, last_message());
    return 1;
}

/* A vector of totals through the batch entry point: the vector's customer and two copies; with
 * `measured`, through crmt_evaluate_batch_with_measures with each month's measure values. */
static void run_vector_batch(const char *name, const cJSON *v, int measured) {
    char label[512];
    snprintf(label, sizeof label, "%s %s", measured ? "batch of totals and measures" : "batch", name);
    begin(label);
    char *rules = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(v, "rules"));
    crmt_rulebook *book = NULL;
    CHECK(crmt_rulebook_from_json((const uint8_t *)rules, strlen(rules), &book) == CRMT_OK, "rules");
    free(rules);
    const cJSON *options = cJSON_GetObjectItemCaseSensitive(v, "options");
    if (book && options && strcmp(str_or(options, "missing_months", "error"), "treat_as_zero") == 0) {
        crmt_rulebook *b2 = NULL;
        crmt_rulebook_with_missing_months(book, CRMT_MISSING_MONTHS_TREAT_AS_ZERO, &b2);
        crmt_rulebook_free(book);
        book = b2;
    }
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(v, "customer");
    const char *id = str_or(cust, "id", "");
    const char *entity = str_or(cust, "legal_entity", "");
    uint8_t kind = strcmp(str_or(cust, "kind", "personal"), "corporate") == 0 ? CRMT_KIND_CORPORATE : 0;
    enum { N = 3 };
    char ids[512], entities[512];
    size_t id_off[N + 1], entity_off[N + 1];
    uint8_t kinds[N];
    size_t idl = strlen(id), el = strlen(entity);
    if (idl > 100 || el > 100) { end(); crmt_rulebook_free(book); return; }
    for (size_t i = 0; i <= N; i++) { id_off[i] = i * idl; entity_off[i] = i * el; }
    for (size_t i = 0; i < N; i++) {
        memcpy(ids + i * idl, id, idl);
        memcpy(entities + i * el, entity, el);
        kinds[i] = kind;
    }
    crmt_batch_customers customers = {N, ids, id_off, entities, entity_off, kinds};
    crmt_states *states = NULL;
    const cJSON *initial = cJSON_GetObjectItemCaseSensitive(v, "initial_state");
    if (initial && !cJSON_IsNull(initial)) {
        /* A batch's states start new and are bound to its ids: stored states are loaded by id
         * into a crmt_portfolio, whose vectors (rules-spec/portfolio-vectors) test_portfolio runs. */
        end();
        crmt_rulebook_free(book);
        return;
    }
    CHECK(crmt_states_new(N, &states) == CRMT_OK, "states");
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(v, "months")) {
        if (!book || !states) break;
        const char *month_text = str_or(m, "month", "");
        int ok;
        int64_t fen = fen_of(str_or(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "input"), "aum"),
                                    "total", "x"), &ok);
        int64_t amounts[N] = {fen, fen, fen};
        crmt_batch_aum aum = {0, NULL, amounts};
        crmt_result errors[N];
        crmt_batch *batch = NULL;
        const char *codes[MAX_MEASURES];
        int64_t values[MAX_MEASURES * N];
        crmt_measure_columns measures = month_measures(cJSON_GetObjectItemCaseSensitive(m, "input"), N, codes, values);
        crmt_result rc =
            measured ? crmt_evaluate_batch_with_measures(book, month_of(month_text), &customers, &aum, &measures, states,
                                                         1, errors, &batch)
                     : crmt_evaluate_batch(book, month_of(month_text), &customers, &aum, states, 1, errors, &batch);
        if (measured && refused_measure(rc, m, month_text)) {
            CHECK(batch == NULL, "%s: no batch when refused", month_text);
            continue;
        }
        CHECK(rc == CRMT_OK, "%s: batch %s", month_text, last_message());
        const cJSON *want_error = cJSON_GetObjectItemCaseSensitive(m, "expect_error");
        const cJSON *expected = cJSON_GetObjectItemCaseSensitive(m, "expected");
        if (want_error) {
            crmt_result want = category_code(str_or(want_error, "category", ""));
            for (size_t i = 0; i < N; i++) CHECK(errors[i] == want, "%s: slot %zu %s", month_text, i, crmt_result_name(errors[i]));
            CHECK(crmt_batch_error_count(batch) == N, "%s: error count", month_text);
            char msg[512];
            CHECK(crmt_batch_error_message(batch, 1, msg, sizeof msg, NULL) == CRMT_OK && strstr(msg, id) != NULL,
                  "%s: message `%s` names the customer", month_text, msg);
            const char *want_field = str_or(want_error, "field", NULL);
            char field[256] = "";
            CHECK(!measured || !want_field ||
                      (crmt_batch_error_field(batch, 2, field, sizeof field, NULL) == CRMT_OK &&
                       strcmp(field, want_field) == 0),
                  "%s: field `%s`, expected `%s`", month_text, field, want_field);
        } else if (expected) {
            size_t nev = 0, nal = 0;
            const crmt_event *ev = crmt_batch_events(batch, &nev);
            const crmt_alert *al = crmt_batch_alerts(batch, &nal);
            size_t ne = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(expected, "events"));
            size_t na = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(expected, "alerts"));
            CHECK(nev == N * ne && nal == N * na, "%s: %zu events, %zu alerts", month_text, nev, nal);
            if (nev == N * ne && nal == N * na) {
                for (size_t i = 0; i < N; i++) {
                    CHECK(errors[i] == CRMT_OK, "%s: slot %zu", month_text, i);
                    for (size_t k = 0; k < ne; k++) CHECK(ev[i * ne + k].customer_index == i, "event index");
                    for (size_t k = 0; k < na; k++) CHECK(al[i * na + k].customer_index == i, "alert index");
                    check_structs(expected, ev + i * ne, ne, al + i * na, na, month_text);
                    crmt_buffer *b = NULL;
                    CHECK(crmt_states_get_bytes(states, i, &b) == CRMT_OK, "get bytes");
                    cJSON *got = cJSON_Parse((const char *)crmt_buffer_data(b));
                    /* The bytes carry the history the book's windows read (SPEC 19.5) beside the
                       state: the vector's `history`, when it has one. */
                    cJSON *history = cJSON_DetachItemFromObjectCaseSensitive(got, "history");
                    const cJSON *want_history = cJSON_GetObjectItemCaseSensitive(expected, "history");
                    CHECK((history == NULL && want_history == NULL) || cJSON_Compare(want_history, history, 1),
                          "%s: history %zu", month_text, i);
                    cJSON_Delete(history);
                    CHECK(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(expected, "state"), got, 1),
                          "%s: state %zu %s", month_text, i, (const char *)crmt_buffer_data(b));
                    cJSON_Delete(got);
                    crmt_buffer_free(b);
                }
            }
            size_t naums = 0;
            const int64_t *aums = crmt_batch_aums_fen(batch, &naums);
            int64_t want = fen_of(str_or(expected, "aum", "x"), &ok);
            CHECK(naums == N && (!ok || aums[2] == want), "%s: aums", month_text);
        }
        crmt_batch_free(batch);
    }
    crmt_states_free(states);
    crmt_rulebook_free(book);
    end();
}

/* The state (its history detached into `*history`) the portfolio holds for `id`; NULL when it
 * holds none. */
static cJSON *portfolio_state(const crmt_portfolio *p, const char *id, cJSON **history) {
    crmt_portfolio_entry entry;
    *history = NULL;
    if (crmt_portfolio_find(p, id, &entry) != CRMT_OK) return NULL;
    crmt_buffer *b = NULL;
    if (crmt_portfolio_state_bytes(p, entry.index, &b) != CRMT_OK) return NULL;
    cJSON *state = cJSON_Parse((const char *)crmt_buffer_data(b));
    crmt_buffer_free(b);
    *history = cJSON_DetachItemFromObjectCaseSensitive(state, "history");
    return state;
}

/* A month's expected outcome against a portfolio run: each customer's events and alerts (in
 * portfolio order, picked out by index), its state and the history its windows read. */
static void check_portfolio_month(const cJSON *expected, const crmt_portfolio_result *r, const crmt_portfolio *p,
                                  const char *const *ids, size_t n, const char *month_text) {
    size_t nev = 0, nal = 0, nerr = 0;
    const crmt_event *ev = crmt_portfolio_result_events(r, &nev);
    const crmt_alert *al = crmt_portfolio_result_alerts(r, &nal);
    crmt_portfolio_result_errors(r, &nerr);
    CHECK(nerr == 0, "%s: %zu record errors", month_text, nerr);
    for (size_t i = 0; i < n; i++) {
        crmt_portfolio_entry entry;
        CHECK(crmt_portfolio_find(p, ids[i], &entry) == CRMT_OK, "%s: `%s` in the portfolio", month_text, ids[i]);
        crmt_event mine_ev[16];
        crmt_alert mine_al[16];
        size_t ne = 0, na = 0;
        for (size_t k = 0; k < nev && ne < 16; k++)
            if (ev[k].customer_index == entry.index) mine_ev[ne++] = ev[k];
        for (size_t k = 0; k < nal && na < 16; k++)
            if (al[k].customer_index == entry.index) mine_al[na++] = al[k];
        check_structs(expected, mine_ev, ne, mine_al, na, month_text);
        cJSON *history = NULL;
        cJSON *state = portfolio_state(p, ids[i], &history);
        const cJSON *want_history = cJSON_GetObjectItemCaseSensitive(expected, "history");
        CHECK((history == NULL && want_history == NULL) || cJSON_Compare(want_history, history, 1),
              "%s: history of `%s`", month_text, ids[i]);
        CHECK(state && cJSON_Compare(cJSON_GetObjectItemCaseSensitive(expected, "state"), state, 1), "%s: state of `%s`",
              month_text, ids[i]);
        cJSON_Delete(history);
        cJSON_Delete(state);
    }
}

/* A month's expected error against a portfolio run: each customer held back with the error's
 * category and field, its state unchanged (a customer new to the portfolio joins it with a
 * state that has evaluated no month). */
static void check_portfolio_error(const cJSON *want_error, const crmt_portfolio_result *r, const crmt_portfolio *p,
                                  char *const *before, const char *const *ids, size_t n, const char *month_text) {
    size_t nerr = 0;
    const crmt_record_error *errors = crmt_portfolio_result_errors(r, &nerr);
    CHECK(nerr == n, "%s: %zu record errors", month_text, nerr);
    crmt_result want = category_code(str_or(want_error, "category", ""));
    const char *field = str_or(want_error, "field", "");
    for (size_t k = 0; k < nerr; k++) {
        CHECK(errors[k].code == want && strcmp(errors[k].field, field) == 0, "%s: error %zu %s `%s`", month_text, k,
              crmt_result_name(errors[k].code), errors[k].field);
    }
    for (size_t i = 0; i < n; i++) {
        cJSON *history = NULL;
        cJSON *state = portfolio_state(p, ids[i], &history);
        char *now = state ? cJSON_PrintUnformatted(state) : NULL;
        int fresh = state && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(state, "last_month"));
        CHECK(before[i] ? now && strcmp(now, before[i]) == 0 : now == NULL || fresh,
              "%s: state of `%s` changed on error: %s", month_text, ids[i], now ? now : "none");
        free(now);
        cJSON_Delete(history);
        cJSON_Delete(state);
    }
}

/* A vector of totals with measures through a portfolio month by month: each month an extract of
 * the vector's customer and a copy, pushed in one crmt_extract_push_totals_with_measures_fen. */
static void run_vector_extract(const char *name, const cJSON *v) {
    char label[512];
    snprintf(label, sizeof label, "extract of totals and measures %s", name);
    begin(label);
    char *rules = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(v, "rules"));
    crmt_rulebook *book = NULL;
    CHECK(crmt_rulebook_from_json((const uint8_t *)rules, strlen(rules), &book) == CRMT_OK, "rules");
    free(rules);
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(v, "customer");
    const char *id = str_or(cust, "id", "");
    const char *entity = str_or(cust, "legal_entity", "");
    int8_t kind = strcmp(str_or(cust, "kind", "personal"), "corporate") == 0 ? CRMT_KIND_CORPORATE : CRMT_KIND_PERSONAL;
    enum { N = 2 };
    char copy[128], ids[256], entities[256];
    snprintf(copy, sizeof copy, "%s-copy", id);
    const char *names[N] = {id, copy};
    size_t idl = strlen(id), el = strlen(entity);
    if (idl > 100 || el > 100) { end(); crmt_rulebook_free(book); return; }
    snprintf(ids, sizeof ids, "%s%s", id, copy);
    snprintf(entities, sizeof entities, "%s%s", entity, entity);
    size_t id_off[N + 1] = {0, idl, idl + strlen(copy)}, entity_off[N + 1] = {0, el, 2 * el};
    int8_t kinds[N] = {kind, kind};
    crmt_portfolio *p = NULL;
    crmt_portfolio_result *r = NULL;
    CHECK(crmt_portfolio_new(&p) == CRMT_OK && crmt_portfolio_result_new(&r) == CRMT_OK, "portfolio");
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(v, "months")) {
        if (!book || !p || !r) break;
        const char *month_text = str_or(m, "month", "");
        const cJSON *input = cJSON_GetObjectItemCaseSensitive(m, "input");
        int ok;
        int64_t fen = fen_of(str_or(cJSON_GetObjectItemCaseSensitive(input, "aum"), "total", "x"), &ok);
        int64_t amounts[N] = {fen, fen};
        const char *codes[MAX_MEASURES];
        int64_t values[MAX_MEASURES * N];
        crmt_measure_columns measures = month_measures(input, N, codes, values);
        char *before[N];
        for (size_t i = 0; i < N; i++) {
            cJSON *history = NULL;
            cJSON *state = portfolio_state(p, names[i], &history);
            before[i] = state ? cJSON_PrintUnformatted(state) : NULL;
            cJSON_Delete(history);
            cJSON_Delete(state);
        }
        crmt_extract *x = NULL;
        CHECK(crmt_extract_new(book, &x) == CRMT_OK, "extract");
        crmt_result rc = crmt_extract_push_totals_with_measures_fen(x, book, "aum", 1, N, ids, id_off,
                                                                    el ? entities : NULL, el ? entity_off : NULL,
                                                                    kinds, NULL, amounts, &measures);
        if (!refused_measure(rc, m, month_text)) {
            CHECK(rc == CRMT_OK, "%s: push %s", month_text, last_message());
            rc = crmt_evaluate_portfolio(book, p, month_of(month_text), 0, x, NULL, r);
            CHECK(rc == CRMT_OK, "%s: evaluate %s %s", month_text, crmt_result_name(rc), last_message());
            const cJSON *want_error = cJSON_GetObjectItemCaseSensitive(m, "expect_error");
            const cJSON *expected = cJSON_GetObjectItemCaseSensitive(m, "expected");
            if (rc == CRMT_OK && want_error) check_portfolio_error(want_error, r, p, before, names, N, month_text);
            else if (rc == CRMT_OK && expected) check_portfolio_month(expected, r, p, names, N, month_text);
        }
        for (size_t i = 0; i < N; i++) free(before[i]);
        crmt_extract_free(x);
    }
    crmt_portfolio_result_free(r);
    crmt_portfolio_free(p);
    crmt_rulebook_free(book);
    end();
}

static int json_file(const struct dirent *e) {
    size_t n = strlen(e->d_name);
    return n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

static void run_vectors(const char *dir) {
    struct dirent **list = NULL;
    int n = scandir(dir, &list, json_file, alphasort);
    begin("vectors folder");
    CHECK(n > 0, "no vectors in %s", dir);
    end();
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
        char *text = read_file(path, NULL);
        cJSON *v = text ? cJSON_Parse(text) : NULL;
        begin(list[i]->d_name);
        CHECK(v != NULL, "not readable JSON");
        end();
        if (v) {
            run_vector_single(list[i]->d_name, v);
            if (totals_input(v, 0)) run_vector_batch(list[i]->d_name, v, 0);
            if (declares_measures(v)) batch_refuses_measures(list[i]->d_name, v);
            if (declares_measures(v) && totals_input(v, 1)) {
                run_vector_batch(list[i]->d_name, v, 1);
                run_vector_extract(list[i]->d_name, v);
            }
        }
        cJSON_Delete(v);
        free(text);
        free(list[i]);
    }
    free(list);
}

/* ---- misuse and API cases ------------------------------------------------------------- */

static crmt_rulebook *default_book(void) {
    crmt_rulebook *b = NULL;
    if (crmt_rulebook_default(&b) != CRMT_OK) return NULL;
    return b;
}

static void test_version(void) {
    begin("version");
    CHECK(crmt_abi_version() == CRMT_ABI_VERSION, "abi %u", crmt_abi_version());
    CHECK(crmt_version() != NULL && strlen(crmt_version()) > 0, "version");
    CHECK(strcmp(crmt_result_name(CRMT_SEQUENCE_ERROR), "CRMT_SEQUENCE_ERROR") == 0, "name");
    CHECK(strcmp(crmt_result_name(12345), "CRMT_UNKNOWN") == 0, "unknown name");
    CHECK(CRMT_OK == 0 && CRMT_NULL_ARGUMENT == 1 && CRMT_RULES_ERROR == 10 && CRMT_PANIC == 99, "stable values");
    CHECK(strcmp(crmt_event_kind_code(CRMT_EVENT_WATCH_STARTED), "watch_started") == 0, "event code");
    CHECK(strcmp(crmt_event_kind_name_zh(CRMT_EVENT_DOWNGRADED), "降级") == 0, "zh name");
    CHECK(strcmp(crmt_alert_kind_code(CRMT_ALERT_POTENTIAL_VIP), "potential_vip") == 0, "alert code");
    CHECK(strcmp(crmt_event_kind_code(-1), "") == 0 && strcmp(crmt_alert_kind_code(1000), "") == 0, "out of range");
    end();
}

static void test_nulls(void) {
    begin("null arguments");
    crmt_rulebook *book = NULL;
    CHECK(crmt_rulebook_from_toml(NULL, 10, &book) == CRMT_NULL_ARGUMENT, "data");
    CHECK(strcmp(last_field(), "data") == 0, "field %s", last_field());
    CHECK(crmt_rulebook_from_toml((const uint8_t *)"x", 1, NULL) == CRMT_NULL_ARGUMENT, "out");
    CHECK(crmt_rulebook_from_json(NULL, 0, &book) == CRMT_RULES_ERROR, "empty json is a rules error");
    CHECK(book == NULL, "no handle");
    CHECK(crmt_rulebook_default(NULL) == CRMT_NULL_ARGUMENT, "default out");
    crmt_rulebook *b = default_book();
    crmt_state *s = NULL;
    crmt_state_new(&s);
    crmt_customer c = {"c1", NULL, CRMT_KIND_PERSONAL};
    crmt_customer no_id = {NULL, NULL, CRMT_KIND_PERSONAL};
    CHECK(crmt_evaluate_total_fen(NULL, &c, s, 202401, 100, NULL) == CRMT_NULL_ARGUMENT, "book");
    CHECK(crmt_evaluate_total_fen(b, NULL, s, 202401, 100, NULL) == CRMT_NULL_ARGUMENT, "customer");
    CHECK(crmt_evaluate_total_fen(b, &no_id, s, 202401, 100, NULL) == CRMT_NULL_ARGUMENT, "id");
    CHECK(strcmp(last_field(), "customer.id") == 0, "field %s", last_field());
    CHECK(crmt_evaluate_total_fen(b, &c, NULL, 202401, 100, NULL) == CRMT_NULL_ARGUMENT, "state");
    CHECK(crmt_evaluate_total(b, &c, s, 202401, NULL, NULL) == CRMT_NULL_ARGUMENT, "aum");
    CHECK(crmt_evaluate_averages(b, &c, s, 202401, NULL, 2, NULL) == CRMT_NULL_ARGUMENT, "components");
    CHECK(crmt_evaluate_json(b, &c, s, 202401, NULL, 3, NULL) == CRMT_NULL_ARGUMENT, "input");
    CHECK(crmt_state_to_bytes(NULL, NULL) == CRMT_NULL_ARGUMENT, "to bytes");
    CHECK(crmt_state_get_info(s, NULL) == CRMT_NULL_ARGUMENT, "info");
    CHECK(crmt_outcome_to_json(NULL, NULL) == CRMT_NULL_ARGUMENT, "outcome json");
    CHECK(crmt_outcome_aum_fen(NULL) == CRMT_NO_AMOUNT, "aum of null");
    size_t n = 7;
    CHECK(crmt_outcome_events(NULL, &n) == NULL && n == 0, "events of null");
    CHECK(crmt_batch_events(NULL, &n) == NULL && n == 0, "batch events of null");
    CHECK(crmt_buffer_data(NULL) == NULL && crmt_buffer_len(NULL) == 0, "buffer null");
    CHECK(crmt_states_len(NULL) == 0, "states len");
    crmt_states *huge = NULL;
    CHECK(crmt_states_new(SIZE_MAX / 2, &huge) == CRMT_INVALID_ARGUMENT && huge == NULL, "impossible allocation");
    CHECK(crmt_evaluate_batch(b, 202401, NULL, NULL, NULL, 1, NULL, NULL) == CRMT_NULL_ARGUMENT, "batch");
    /* Every free accepts NULL. */
    crmt_rulebook_free(NULL);
    crmt_state_free(NULL);
    crmt_states_free(NULL);
    crmt_outcome_free(NULL);
    crmt_batch_free(NULL);
    crmt_buffer_free(NULL);
    /* The state is untouched by all of it. */
    crmt_state_info info;
    CHECK(crmt_state_get_info(s, &info) == CRMT_OK && info.status == CRMT_STATUS_NOT_ENROLLED && info.last_month == 0, "state");
    crmt_state_free(s);
    crmt_rulebook_free(b);
    end();
}

static void test_utf8(void) {
    begin("invalid utf-8");
    crmt_rulebook *book = NULL;
    const uint8_t bad[] = {'n', 'a', 'm', 'e', '=', '"', 0xff, '"'};
    CHECK(crmt_rulebook_from_toml(bad, sizeof bad, &book) == CRMT_INVALID_UTF8, "rules");
    CHECK(book == NULL, "no handle");
    crmt_rulebook *b = default_book();
    crmt_state *s = NULL;
    crmt_state_new(&s);
    crmt_customer c = {"c\xc3\x28", NULL, 0};
    CHECK(crmt_evaluate_total_fen(b, &c, s, 202401, 100, NULL) == CRMT_INVALID_UTF8, "id");
    crmt_customer c2 = {"c1", "\xfe", 0};
    CHECK(crmt_evaluate_total_fen(b, &c2, s, 202401, 100, NULL) == CRMT_INVALID_UTF8, "entity");
    CHECK(strcmp(last_field(), "customer.legal_entity") == 0, "field %s", last_field());
    const uint8_t bad_state[] = {'{', 0xc0, '}'};
    crmt_state *s2 = NULL;
    CHECK(crmt_state_from_bytes(bad_state, sizeof bad_state, &s2) == CRMT_INVALID_UTF8 && s2 == NULL, "state");
    crmt_state_free(s);
    crmt_rulebook_free(b);
    end();
}

static void test_amounts(void) {
    begin("invalid amounts");
    crmt_rulebook *b = default_book();
    crmt_state *s = NULL;
    crmt_state_new(&s);
    crmt_customer c = {"6221000001", NULL, 0};
    const char *bad[] = {"200,000", "2e5", "abc", "", "1.2.3", " ", "--5", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        crmt_outcome *o = NULL;
        crmt_result rc = crmt_evaluate_total(b, &c, s, 202401, bad[i], &o);
        CHECK(rc == CRMT_INVALID_AMOUNT, "`%s` gave %s", bad[i], crmt_result_name(rc));
        CHECK(o == NULL, "no outcome");
        CHECK(strcmp(last_field(), "aum") == 0, "field `%s`", last_field());
        CHECK(strcmp(last_customer(), "6221000001") == 0, "customer `%s`", last_customer());
        CHECK(crmt_last_error_month() == 202401, "month %d", crmt_last_error_month());
        CHECK(strstr(last_message(), "6221000001") != NULL, "message `%s`", last_message());
    }
    crmt_component_amount comps[] = {{"time_deposit", "150000"}, {"demand_deposit", "1,000"}};
    CHECK(crmt_evaluate_averages(b, &c, s, 202401, comps, 2, NULL) == CRMT_INVALID_AMOUNT, "component");
    CHECK(strcmp(last_field(), "demand_deposit") == 0, "component field `%s`", last_field());
    crmt_component_amount unknown[] = {{"no_such_thing", "1"}};
    CHECK(crmt_evaluate_averages(b, &c, s, 202401, unknown, 1, NULL) == CRMT_INPUT_ERROR, "unknown component: %s",
          last_message());
    crmt_state_info info;
    crmt_state_get_info(s, &info);
    CHECK(info.last_month == 0, "state unchanged");
    /* Good amounts, both ways, agree. */
    crmt_component_amount good[] = {{"time_deposit", "150000.50"}, {"demand_deposit", "60000"}};
    crmt_outcome *o = NULL;
    CHECK(crmt_evaluate_averages(b, &c, s, 202401, good, 2, &o) == CRMT_OK, "%s", last_message());
    CHECK(crmt_outcome_aum_fen(o) == 21000050, "aum %lld", (long long)crmt_outcome_aum_fen(o));
    size_t n = 0;
    const crmt_event *ev = crmt_outcome_events(o, &n);
    CHECK(n == 1 && ev[0].kind == CRMT_EVENT_ENTERED && strcmp(ev[0].to_tier, "gold") == 0, "entered gold");
    CHECK(n == 1 && ev[0].threshold_fen == 20000000 && ev[0].effective_from == 202402, "evidence");
    crmt_outcome_free(o);
    crmt_state_free(s);
    crmt_rulebook_free(b);
    end();
}

static void test_months(void) {
    begin("months and sequence");
    crmt_rulebook *b = default_book();
    crmt_state *s = NULL;
    crmt_state_new(&s);
    crmt_customer c = {"c-seq", NULL, 0};
    CHECK(crmt_evaluate_total_fen(b, &c, s, 202413, 100, NULL) == CRMT_INVALID_MONTH, "month 13");
    CHECK(crmt_evaluate_total_fen(b, &c, s, 0, 100, NULL) == CRMT_INVALID_MONTH, "month 0");
    CHECK(crmt_evaluate_total_fen(b, &c, s, -202401, 100, NULL) == CRMT_INVALID_MONTH, "negative");
    CHECK(crmt_evaluate_total_fen(b, &c, s, 202401, 30000000, NULL) == CRMT_OK, "first month");
    CHECK(crmt_evaluate_total_fen(b, &c, s, 202401, 30000000, NULL) == CRMT_SEQUENCE_ERROR, "repeated");
    CHECK(crmt_last_error_month() == 202401, "month %d", crmt_last_error_month());
    CHECK(strcmp(last_customer(), "c-seq") == 0, "customer");
    CHECK(crmt_evaluate_total_fen(b, &c, s, 202312, 30000000, NULL) == CRMT_SEQUENCE_ERROR, "earlier");
    CHECK(crmt_evaluate_total_fen(b, &c, s, 202403, 30000000, NULL) == CRMT_SEQUENCE_ERROR, "gap");
    CHECK(strstr(last_message(), "2024-02") != NULL, "names the missing month: %s", last_message());
    crmt_state_info info;
    crmt_state_get_info(s, &info);
    CHECK(info.last_month == 202401 && info.status == CRMT_STATUS_RATED && strcmp(info.tier, "gold") == 0, "state kept");
    /* The gap is fine with treat-as-zero. */
    crmt_rulebook *z = NULL;
    CHECK(crmt_rulebook_with_missing_months(b, 7, &z) == CRMT_INVALID_ARGUMENT && z == NULL, "bad mode");
    CHECK(crmt_rulebook_with_missing_months(b, CRMT_MISSING_MONTHS_TREAT_AS_ZERO, &z) == CRMT_OK, "mode");
    CHECK(crmt_evaluate_total_fen(z, &c, s, 202403, 30000000, NULL) == CRMT_OK, "%s", last_message());
    /* A success clears the details. */
    CHECK(crmt_last_error_code() == CRMT_OK && strcmp(last_message(), "") == 0, "cleared");
    crmt_customer corp = {"c-corp", NULL, 9};
    CHECK(crmt_evaluate_total_fen(b, &corp, s, 202404, 1, NULL) == CRMT_INVALID_ARGUMENT, "kind");
    CHECK(strcmp(last_field(), "kind") == 0, "kind field");
    crmt_rulebook_free(z);
    crmt_state_free(s);
    crmt_rulebook_free(b);
    end();
}

static void test_buffers(void) {
    begin("buffers");
    crmt_rulebook *b = default_book();
    crmt_state *s = NULL;
    crmt_state_new(&s);
    crmt_customer c = {"buffer-customer", NULL, 0};
    CHECK(crmt_evaluate_total(b, &c, s, 202401, "x", NULL) == CRMT_INVALID_AMOUNT, "setup");
    size_t needed = 0;
    CHECK(crmt_last_error_message(NULL, 0, &needed) == CRMT_BUFFER_TOO_SMALL && needed > 10, "size query");
    char small[5];
    memset(small, 'Z', sizeof small);
    size_t w = 0;
    CHECK(crmt_last_error_message(small, sizeof small, &w) == CRMT_BUFFER_TOO_SMALL, "too small");
    CHECK(w == needed && strlen(small) == 4, "truncated, NUL-terminated: %zu", w);
    char *full = malloc(needed + 1);
    CHECK(crmt_last_error_message(full, needed + 1, &w) == CRMT_OK && strlen(full) == needed, "exact fit");
    CHECK(strncmp(full, small, 4) == 0, "same prefix");
    free(full);
    /* Reading the details did not clear them. */
    CHECK(crmt_last_error_code() == CRMT_INVALID_AMOUNT, "kept");
    char desc[8];
    CHECK(crmt_error_message(CRMT_INPUT_ERROR, desc, sizeof desc, &w) == CRMT_BUFFER_TOO_SMALL && w > 8, "desc");
    char big[256];
    CHECK(crmt_error_message(999, big, sizeof big, NULL) == CRMT_OK && strcmp(big, "unknown result code") == 0, "unknown");
    /* Cut on a character boundary: a Chinese legal entity in a message. */
    crmt_customer zh = {"客户甲", NULL, 0};
    CHECK(crmt_evaluate_total(b, &zh, s, 202401, "1e3", NULL) == CRMT_INVALID_AMOUNT, "zh");
    char cut[40];
    crmt_last_error_message(cut, sizeof cut, NULL);
    crmt_state *dummy = NULL;
    CHECK(crmt_state_from_bytes((const uint8_t *)cut, strlen(cut), &dummy) != CRMT_INVALID_UTF8, "valid utf-8 after cut");
    crmt_state_free(dummy);
    crmt_outcome *o = NULL;
    crmt_evaluate_total(b, &c, s, 202401, "523400.5", &o);
    char aum[4];
    CHECK(crmt_outcome_aum(o, aum, sizeof aum, &w) == CRMT_BUFFER_TOO_SMALL && w == 9, "aum buffer");
    crmt_outcome_free(o);
    crmt_state_free(s);
    crmt_rulebook_free(b);
    end();
}

static void test_panic(void) {
    begin("panic boundary");
    CHECK(crmt_selftest_panic() == CRMT_PANIC, "panic caught");
    CHECK(crmt_last_error_code() == CRMT_PANIC, "code");
    CHECK(strstr(last_message(), "panic") != NULL, "message `%s`", last_message());
    /* The library still works afterwards. */
    crmt_rulebook *b = default_book();
    CHECK(b != NULL, "usable after a panic");
    crmt_rulebook_free(b);
    end();
}

static void test_rules_and_states(void) {
    begin("rules and states");
    crmt_rulebook *book = NULL;
    const char *toml = "name = \"broken\"\n[[rule_sets]]\nid = 3\n";
    CHECK(crmt_rulebook_from_toml((const uint8_t *)toml, strlen(toml), &book) == CRMT_RULES_ERROR, "broken");
    CHECK(book == NULL && strlen(last_message()) > 0, "message");
    size_t len = 0;
    char *text = read_file(getenv("CRMT_DEFAULT_RULES") ? getenv("CRMT_DEFAULT_RULES") : "rules-spec/default-rules.toml", &len);
    CHECK(text != NULL, "default rules file (CRMT_DEFAULT_RULES)");
    if (text) {
        CHECK(crmt_rulebook_from_toml((const uint8_t *)text, len, &book) == CRMT_OK, "%s", last_message());
        crmt_buffer *json = NULL;
        CHECK(crmt_rulebook_to_json(book, &json) == CRMT_OK, "to json");
        crmt_rulebook *again = NULL;
        CHECK(crmt_rulebook_from_json(crmt_buffer_data(json), crmt_buffer_len(json), &again) == CRMT_OK, "json back");
        crmt_rulebook_free(again);
        crmt_buffer_free(json);
        free(text);
    }
    crmt_state *s = NULL;
    const char *garbage = "{\"schema_version\": 1, \"status\": \"flying\"}";
    CHECK(crmt_state_from_bytes((const uint8_t *)garbage, strlen(garbage), &s) == CRMT_STATE_ERROR && s == NULL, "bad");
    const char *future = "{\"schema_version\": 99, \"status\": \"rated\"}";
    CHECK(crmt_state_from_bytes((const uint8_t *)future, strlen(future), &s) == CRMT_STATE_ERROR, "version");
    CHECK(strstr(last_message(), "99") != NULL, "names the version: %s", last_message());
    CHECK(crmt_state_from_bytes(NULL, 0, &s) == CRMT_OK, "empty is new");
    crmt_state_info info;
    CHECK(crmt_state_get_info(s, &info) == CRMT_OK && info.status == CRMT_STATUS_NOT_ENROLLED, "new");
    /* Clones are independent: evaluating one leaves the other. */
    crmt_state *copy = NULL;
    crmt_customer c = {"c", NULL, 0};
    CHECK(crmt_state_clone(s, &copy) == CRMT_OK, "clone");
    CHECK(crmt_evaluate_total_fen(book, &c, copy, 202401, 100000000, NULL) == CRMT_OK, "evaluate");
    crmt_state_get_info(s, &info);
    CHECK(info.last_month == 0, "original untouched");
    crmt_state_get_info(copy, &info);
    CHECK(info.last_month == 202401 && strcmp(info.tier, "diamond") == 0, "copy evaluated: %s", info.tier);
    crmt_state_free(copy);
    crmt_state_free(s);
    crmt_rulebook_free(book);
    end();
}

/* The batch reads ids by the portfolio's one rule (SPEC §16): a padded id, or one with a
 * control character, is that customer's input error on field customer_id. */
static void test_batch_ids(void) {
    begin("batch ids follow the portfolio's rule");
    crmt_rulebook *b = default_book();
    const char ids[] = "c0" " c1" "c\x01" "c3";
    size_t id_off[] = {0, 2, 5, 7, 9};
    crmt_batch_customers customers = {4, ids, id_off, NULL, NULL, NULL};
    int64_t totals[] = {25000000, 25000000, 25000000, 25000000};
    crmt_batch_aum aum = {0, NULL, totals};
    crmt_states *states = NULL;
    crmt_states_new(4, &states);
    crmt_result errors[4];
    crmt_batch *batch = NULL;
    CHECK(crmt_evaluate_batch(b, 202401, &customers, &aum, states, 1, errors, &batch) == CRMT_OK, "%s", last_message());
    CHECK(errors[0] == CRMT_OK && errors[3] == CRMT_OK, "good ids");
    CHECK(errors[1] == CRMT_INPUT_ERROR && errors[2] == CRMT_INPUT_ERROR, "padded %s, control %s",
          crmt_result_name(errors[1]), crmt_result_name(errors[2]));
    char field[64];
    CHECK(crmt_batch_error_field(batch, 1, field, sizeof field, NULL) == CRMT_OK && strcmp(field, "customer_id") == 0,
          "field %s", field);
    crmt_batch_free(batch);
    crmt_states_free(states);
    crmt_rulebook_free(b);
    end();
}

static void test_batch(void) {
    begin("batch misuse and per-customer errors");
    crmt_rulebook *b = default_book();
    /* Five customers: a good one, one with an invalid UTF-8 id, one with an unknown kind, one
     * whose state is already at the month (sequence error), one with components (personal: the
     * default book tiers no corporate customer). */
    const char ids[] = "c0c\xff" "c2c3c4";
    size_t id_off[] = {0, 2, 4, 6, 8, 10};
    uint8_t kinds[] = {0, 0, 5, 0, 0};
    crmt_batch_customers customers = {5, ids, id_off, NULL, NULL, kinds};
    int64_t totals[] = {25000000, 25000000, 25000000, 25000000, 60000000};
    crmt_batch_aum aum = {0, NULL, totals};
    crmt_states *states = NULL;
    crmt_states_new(4, &states);
    crmt_result errors[5];
    crmt_batch *batch = NULL;
    CHECK(crmt_evaluate_batch(b, 202401, &customers, &aum, states, 1, errors, &batch) == CRMT_INVALID_ARGUMENT, "count");
    CHECK(batch == NULL, "no batch");
    crmt_states_free(states);
    crmt_states_new(5, &states);
    CHECK(crmt_evaluate_batch(b, 202413, &customers, &aum, states, 1, errors, &batch) == CRMT_INVALID_MONTH, "month");
    size_t bad_off[] = {0, 2, 1, 6, 8, 10};
    crmt_batch_customers bad = {5, ids, bad_off, NULL, NULL, kinds};
    CHECK(crmt_evaluate_batch(b, 202401, &bad, &aum, states, 1, errors, &batch) == CRMT_INVALID_ARGUMENT, "offsets");
    CHECK(strcmp(last_field(), "customers.id_offsets") == 0, "field %s", last_field());
    CHECK(crmt_evaluate_batch(b, 202401, &customers, &aum, states, 1, errors, &batch) == CRMT_OK, "%s", last_message());
    CHECK(errors[0] == CRMT_OK && errors[4] == CRMT_OK, "good ones");
    CHECK(errors[1] == CRMT_INVALID_UTF8, "utf-8 slot %s", crmt_result_name(errors[1]));
    CHECK(errors[2] == CRMT_INVALID_ARGUMENT, "kind slot %s", crmt_result_name(errors[2]));
    CHECK(errors[3] == CRMT_OK, "slot 3 %s", crmt_result_name(errors[3]));
    CHECK(crmt_batch_error_count(batch) == 2, "2 errors");
    uint32_t idx = 0;
    crmt_result code = CRMT_OK;
    CHECK(crmt_batch_error_at(batch, 1, &idx, &code) == CRMT_OK && idx == 2 && code == CRMT_INVALID_ARGUMENT, "at");
    CHECK(crmt_batch_error_at(batch, 2, &idx, &code) == CRMT_INDEX_OUT_OF_RANGE, "past the end");
    char msg[512], field[64];
    CHECK(crmt_batch_error_field(batch, 2, field, sizeof field, NULL) == CRMT_OK && strcmp(field, "kind") == 0, "kind");
    CHECK(crmt_batch_error_message(batch, 0, msg, sizeof msg, NULL) == CRMT_OK && msg[0] == 0, "no error for 0");
    size_t nev = 0;
    const crmt_event *ev = crmt_batch_events(batch, &nev);
    CHECK(nev == 3 && ev[0].customer_index == 0 && ev[2].customer_index == 4, "events of good customers: %zu", nev);
    CHECK(nev == 3 && strcmp(ev[2].to_tier, "platinum") == 0, "platinum");
    crmt_batch_free(batch);
    batch = NULL;
    /* The states are bound to the ids of their first batch: reordered ids are refused. */
    const char ids_reordered[] = "c3c\xff" "c2c0c4";
    crmt_batch_customers reordered = {5, ids_reordered, id_off, NULL, NULL, kinds};
    CHECK(crmt_evaluate_batch(b, 202402, &reordered, &aum, states, 1, errors, &batch) == CRMT_INVALID_ARGUMENT,
          "reordered ids refused");
    CHECK(strcmp(last_field(), "states") == 0 && strstr(last_message(), "customer 0") != NULL, "names the position: %s",
          last_message());
    CHECK(batch == NULL, "no batch");
    /* The same month again: the readable customers are in sequence error. */
    CHECK(crmt_evaluate_batch(b, 202401, &customers, &aum, states, 1, errors, &batch) == CRMT_OK, "%s", last_message());
    CHECK(errors[3] == CRMT_SEQUENCE_ERROR, "sequence slot %s", crmt_result_name(errors[3]));
    CHECK(crmt_batch_error_at(batch, 3, &idx, &code) == CRMT_OK && idx == 3 && code == CRMT_SEQUENCE_ERROR, "at");
    CHECK(crmt_batch_error_message(batch, 3, msg, sizeof msg, NULL) == CRMT_OK && strstr(msg, "c3"), "msg %s", msg);
    CHECK(crmt_batch_error_month(batch, 3) == 202401, "month");
    crmt_state_info info;
    crmt_states_get_info(states, 1, &info);
    CHECK(info.last_month == 0, "rejected record's state untouched");
    crmt_states_get_info(states, 0, &info);
    CHECK(info.last_month == 202401 && strcmp(info.tier, "gold") == 0, "state updated");
    crmt_batch_free(batch);
    batch = NULL;
    /* Components and threads: 2 threads give the same result as 1. */
    const char *codes[] = {"time_deposit", "demand_deposit"};
    int64_t matrix[] = {10000000, 10000000, 30000000, CRMT_NO_AMOUNT, 1, 2, 100, 100, 20000000, -1};
    crmt_batch_aum comps = {2, codes, matrix};
    const char ids2[] = "d0d1d2d3d4";
    crmt_batch_customers good = {5, ids2, id_off, NULL, NULL, NULL};
    crmt_states *s1 = NULL, *s2 = NULL;
    crmt_states_new(5, &s1);
    crmt_states_new(5, &s2);
    crmt_batch *b1 = NULL, *b2 = NULL;
    CHECK(crmt_evaluate_batch(b, 202401, &good, &comps, s1, 1, NULL, &b1) == CRMT_OK, "%s", last_message());
    CHECK(crmt_evaluate_batch(b, 202401, &good, &comps, s2, 2, NULL, &b2) == CRMT_OK, "%s", last_message());
    size_t na1 = 0, na2 = 0, n1 = 0, n2 = 0;
    const int64_t *a1 = crmt_batch_aums_fen(b1, &na1);
    crmt_batch_aums_fen(b2, &na2);
    crmt_batch_events(b1, &n1);
    crmt_batch_events(b2, &n2);
    CHECK(na1 == 5 && a1[0] == 20000000 && a1[1] == 30000000 && a1[2] == 3, "aums %lld", (long long)a1[0]);
    CHECK(n1 == n2 && n1 == 2, "same events %zu %zu", n1, n2);
    CHECK(crmt_batch_error_count(b1) == 1 && crmt_batch_error_count(b2) == 1, "negative amount is an input error");
    for (size_t i = 0; i < 5; i++) {
        crmt_buffer *l1 = NULL, *l2 = NULL;
        crmt_states_get_bytes(s1, i, &l1);
        crmt_states_get_bytes(s2, i, &l2);
        CHECK(crmt_buffer_len(l1) == crmt_buffer_len(l2) &&
                  memcmp(crmt_buffer_data(l1), crmt_buffer_data(l2), crmt_buffer_len(l1)) == 0, "same states");
        crmt_buffer_free(l1);
        crmt_buffer_free(l2);
    }
    /* A component named twice (its code and its Chinese name) is refused, never summed. */
    const char *twice[] = {"time_deposit", "\xe5\xae\x9a\xe6\x9c\x9f\xe5\xad\x98\xe6\xac\xbe"}; /* 定期存款 */
    crmt_batch_aum dup = {2, twice, matrix};
    crmt_states *s4 = NULL;
    crmt_states_new(5, &s4);
    crmt_batch *b4 = NULL;
    CHECK(crmt_evaluate_batch(b, 202401, &good, &dup, s4, 1, NULL, &b4) == CRMT_INPUT_ERROR, "%s", last_message());
    CHECK(strstr(last_message(), "each is named once") != NULL, "duplicate component message: %s", last_message());
    crmt_batch_free(b4);
    crmt_states_free(s4);
    /* The same through one reused handle, month after month. */
    crmt_states *s3 = NULL;
    crmt_states_new(5, &s3);
    crmt_batch *reused = NULL;
    CHECK(crmt_batch_new(&reused) == CRMT_OK && crmt_batch_error_count(reused) == 0, "new batch");
    CHECK(crmt_evaluate_batch_into(b, 202401, &good, &comps, s3, 1, NULL, NULL) == CRMT_NULL_ARGUMENT, "null batch");
    CHECK(crmt_evaluate_batch_into(b, 202401, &good, &comps, s3, 1, NULL, reused) == CRMT_OK, "%s", last_message());
    size_t n3 = 0;
    crmt_batch_events(reused, &n3);
    CHECK(n3 == n1 && crmt_batch_error_count(reused) == 1, "first month into: %zu", n3);
    CHECK(crmt_evaluate_batch_into(b, 202402, &good, &comps, s3, 1, NULL, reused) == CRMT_OK, "%s", last_message());
    crmt_batch_events(reused, &n3);
    CHECK(crmt_batch_error_count(reused) == 1 && crmt_batch_aums_fen(reused, &na1) != NULL && na1 == 5, "second month");
    CHECK(crmt_evaluate_batch_into(b, 202402, &good, &comps, s3, 1, NULL, reused) == CRMT_OK, "all in error");
    CHECK(crmt_batch_error_count(reused) == 5, "repeated month: every customer in error, got %zu",
          crmt_batch_error_count(reused));
    CHECK(crmt_evaluate_batch_into(b, 209913, &good, &comps, s3, 1, NULL, reused) == CRMT_INVALID_MONTH, "bad month");
    crmt_batch_events(reused, &n3);
    CHECK(n3 == 0 && crmt_batch_error_count(reused) == 0, "emptied on failure");
    crmt_batch_free(reused);
    crmt_states_free(s3);
    crmt_batch_free(b1);
    crmt_batch_free(b2);
    crmt_states_free(s1);
    crmt_states_free(s2);
    crmt_states_free(states);
    crmt_rulebook_free(b);
    end();
}

/* Threads sharing one rule book, each with its own state; error details stay per thread. */
struct worker {
    const crmt_rulebook *book;
    int id;
    char tier[CRMT_CODE_SIZE];
    int errors_ok;
};

static void *work(void *arg) {
    struct worker *w = arg;
    char id[32];
    snprintf(id, sizeof id, "thread-%d", w->id);
    crmt_customer c = {id, NULL, 0};
    crmt_state *s = NULL;
    crmt_state_new(&s);
    w->errors_ok = 1;
    for (int m = 1; m <= 12; m++) {
        static const int64_t base[4] = {25000000, 60000000, 120000000, 350000000};
        int64_t fen = base[w->id] + m;
        if (crmt_evaluate_total_fen(w->book, &c, s, 202400 + m, fen, NULL) != CRMT_OK) w->errors_ok = 0;
        /* A failure on this thread names this thread's customer. */
        if (crmt_evaluate_total_fen(w->book, &c, s, 202400 + m, fen, NULL) != CRMT_SEQUENCE_ERROR) w->errors_ok = 0;
        char who[32];
        crmt_last_error_customer(who, sizeof who, NULL);
        if (strcmp(who, id) != 0) w->errors_ok = 0;
    }
    crmt_state_info info;
    crmt_state_get_info(s, &info);
    memcpy(w->tier, info.tier, sizeof w->tier);
    crmt_state_free(s);
    return NULL;
}

static void test_batch_chunks(void) {
    begin("a batch of several thousand customers with unreadable ids, on 1 and 3 threads");
    crmt_rulebook *b = default_book();
    /* 10 000 personal customers (no kinds, no legal entities) of ids "c00000".. with 250000.00
     * each: everyone enters gold. Customer 5000's id is not UTF-8; customers 7000 and 7001 cut
     * one character in two (the whole text is valid UTF-8, their ids are not). */
    enum { N = 10000 };
    char *ids = malloc(N * 6 + 8);
    size_t *off = malloc((N + 1) * sizeof *off);
    int64_t *totals = malloc(N * sizeof *totals);
    size_t pos = 0;
    off[0] = 0;
    for (size_t i = 0; i < N; i++) {
        if (i == 5000) {
            memcpy(ids + pos, "\xff\xfe", 2);
            pos += 2;
        } else if (i == 7000) {
            memcpy(ids + pos, "\xe4", 1); /* the first byte of 中 */
            pos += 1;
        } else if (i == 7001) {
            memcpy(ids + pos, "\xb8\xad", 2); /* its last two */
            pos += 2;
        } else {
            char id[16];
            snprintf(id, sizeof id, "c%05zu", i);
            memcpy(ids + pos, id, 6);
            pos += 6;
        }
        off[i + 1] = pos;
        totals[i] = 25000000;
    }
    crmt_batch_customers customers = {N, ids, off, NULL, NULL, NULL};
    crmt_batch_aum aum = {0, NULL, totals};
    crmt_result *e1 = malloc(N * sizeof *e1), *e3 = malloc(N * sizeof *e3);
    crmt_states *s1 = NULL, *s3 = NULL;
    crmt_states_new(N, &s1);
    crmt_states_new(N, &s3);
    crmt_batch *b1 = NULL, *b3 = NULL;
    crmt_batch_new(&b1);
    crmt_batch_new(&b3);
    /* Two months through the same handles, so the second reuses their memory. */
    for (int32_t month = 202401; month <= 202402; month++) {
        CHECK(crmt_evaluate_batch_into(b, month, &customers, &aum, s1, 1, e1, b1) == CRMT_OK, "%s", last_message());
        CHECK(crmt_evaluate_batch_into(b, month, &customers, &aum, s3, 3, e3, b3) == CRMT_OK, "%s", last_message());
        CHECK(memcmp(e1, e3, N * sizeof *e1) == 0, "same error slots on 1 and 3 threads");
        size_t bad = 0;
        for (size_t i = 0; i < N; i++) {
            int rejected = i == 5000 || i == 7000 || i == 7001;
            CHECK(e1[i] == (rejected ? CRMT_INVALID_UTF8 : CRMT_OK), "slot %zu: %s", i, crmt_result_name(e1[i]));
            bad += rejected;
        }
        CHECK(crmt_batch_error_count(b1) == bad && crmt_batch_error_count(b3) == bad, "%zu errors", bad);
        char field[32];
        CHECK(crmt_batch_error_field(b1, 7001, field, sizeof field, NULL) == CRMT_OK && strcmp(field, "id") == 0,
              "field %s", field);
        size_t n1 = 0, n3 = 0, na = 0;
        const crmt_event *ev1 = crmt_batch_events(b1, &n1);
        const crmt_event *ev3 = crmt_batch_events(b3, &n3);
        const int64_t *aums = crmt_batch_aums_fen(b1, &na);
        CHECK(na == N && aums[4999] == 25000000 && aums[5000] == 0 && aums[7001] == 0 && aums[N - 1] == 25000000,
              "aums");
        if (month == 202401) {
            /* One `entered` per readable customer, with its own index. */
            CHECK(n1 == N - 3 && n3 == n1, "events %zu %zu", n1, n3);
            for (size_t k = 0, i = 0; k < n1 && n1 == N - 3; k++, i++) {
                while (i == 5000 || i == 7000 || i == 7001) i++;
                CHECK(ev1[k].customer_index == i && ev3[k].customer_index == i, "event %zu of customer %u", k,
                      (unsigned)ev1[k].customer_index);
                CHECK(ev1[k].kind == CRMT_EVENT_ENTERED && ev1[k].month == 202401, "entered");
            }
        } else {
            CHECK(n1 == 0 && n3 == 0, "nothing changes in February: %zu %zu", n1, n3);
        }
    }
    crmt_state_info info;
    crmt_states_get_info(s1, 5000, &info);
    CHECK(info.last_month == 0, "rejected record's state untouched");
    crmt_states_get_info(s3, 7001, &info);
    CHECK(info.last_month == 0, "rejected record's state untouched (3 threads)");
    crmt_states_get_info(s1, N - 1, &info);
    CHECK(info.last_month == 202402 && strcmp(info.tier, "gold") == 0, "last customer evaluated");
    crmt_batch_free(b1);
    crmt_batch_free(b3);
    crmt_states_free(s1);
    crmt_states_free(s3);
    free(e1);
    free(e3);
    free(ids);
    free(off);
    free(totals);
    crmt_rulebook_free(b);
    end();
}

static void test_threads(void) {
    begin("threads share a rule book");
    crmt_rulebook *b = default_book();
    enum { T = 4 };
    pthread_t threads[T];
    struct worker workers[T];
    for (int i = 0; i < T; i++) {
        workers[i] = (struct worker){b, i, {0}, 0};
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0, "spawn");
    }
    for (int i = 0; i < T; i++) pthread_join(threads[i], NULL);
    const char *want[T] = {"gold", "platinum", "diamond", "private"};
    for (int i = 0; i < T; i++) {
        CHECK(workers[i].errors_ok, "thread %d: per-thread error details", i);
        CHECK(strcmp(workers[i].tier, want[i]) == 0, "thread %d: tier %s", i, workers[i].tier);
    }
    crmt_rulebook_free(b);
    end();
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "rules-spec/vectors";
    test_version();
    test_nulls();
    test_utf8();
    test_amounts();
    test_months();
    test_buffers();
    test_panic();
    test_rules_and_states();
    test_batch();
    test_batch_ids();
    test_batch_chunks();
    test_threads();
    run_vectors(dir);
    test_batch_measure_columns(dir);
    test_totals_with_measures(dir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
