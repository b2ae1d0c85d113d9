/*
 * C tests of the loan classification signals (crmt_loan_records, crmt_loan_states,
 * crmt_loans_evaluate, crmt_loan_result, SPEC §21): every loan vector of
 * rules-spec/loan-vectors/ (format: its README.md) through the C ABI, then bad input and misuse.
 *
 * A vector's settings become the [loans] table of the default rule book (CRMT_DEFAULT_RULES);
 * a settings error must refuse the book, naming `loans.<field>` with the core's message. Each
 * month's records are pushed one by one and classified from the states the month before
 * wrote (crmt_loan_result_states_jsonl read back by crmt_loan_states_from_jsonl, the initial
 * state as one JSON line). The result read through the structs and the text readers is written
 * as the vector's JSON (loans, worst, trend, has_non_performing, signal lines, the state) and
 * compared whole; an error is compared by category, customer, the loan of the record the
 * details name, month, field and the exact message, and must leave the states as they were.
 * One case differs by design: the month groups records by their customer, so a record of
 * another customer than the vector's (SPEC §21.6's `customer_id` error of `evaluate_loans`)
 * is that customer's record, and is checked to be classified as such.
 *
 * Usage: test_loans <rules-spec/loan-vectors directory>
 * Prints one line per failure and a closing "N passed, N failed".
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crm_tiering.h"

#include "harness.h"


static const char *text_of(const cJSON *v, const char *key) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, key);
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static int yyyymm(const char *month) {
    int y = 0, m = 0;
    return month && sscanf(month, "%d-%d", &y, &m) == 2 ? y * 100 + m : 0;
}

/* The default rule book with `settings` (NULL: none) as its [loans] table. */
static crmt_result book_with(const char *settings, crmt_rulebook **out) {
    const char *path = getenv("CRMT_DEFAULT_RULES");
    size_t len = 0;
    char *base = read_file(path ? path : "rules-spec/default-rules.toml", &len);
    if (!base) return CRMT_NULL_ARGUMENT;
    size_t extra = settings ? strlen(settings) : 0;
    char *text = malloc(len + extra + 16);
    memcpy(text, base, len);
    size_t n = len;
    if (settings) {
        n += (size_t)sprintf(text + n, "\n[loans]\n");
        memcpy(text + n, settings, extra);
        n += extra;
    }
    crmt_result code = crmt_rulebook_from_toml((const uint8_t *)text, n, out);
    free(text);
    free(base);
    return code;
}

/* SPEC §21.5's table, typed from the SPEC: the number and Chinese name of each code. */
static int spec_signal(const char *code, int number, const char *zh) {
    static const struct { const char *code; int number; const char *zh; } table[] = {
        {"overdue", 2201, "逾期"},
        {"approaching_non_performing", 2202, "临近不良"},
        {"non_performing", 2203, "不良贷款"},
        {"bank_class_kinder_than_floor", 2204, "分类宽于监管底线"},
        {"upgrade_held_by_clean_window", 2205, "不良上调观察期未满"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].code, code) == 0) return table[i].number == number && strcmp(table[i].zh, zh) == 0;
    }
    return 0;
}

static char *loan_id(const crmt_loan_result *r, size_t index) {
    static char buf[512];
    buf[0] = 0;
    CHECK(crmt_loan_result_loan_id(r, index, buf, sizeof buf, NULL) == CRMT_OK, "loan_id %zu", index);
    return buf;
}

/* A class (or trend, upgrade) as JSON: its code, null for none. */
static cJSON *code_or_null(const char *code) {
    return code[0] ? cJSON_CreateString(code) : cJSON_CreateNull();
}

static cJSON *loan_json(const crmt_loan_result *r, const crmt_loan *l, size_t index) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "loan_id", loan_id(r, index));
    cJSON_AddNumberToObject(o, "overdue_days", l->overdue_days);
    cJSON_AddStringToObject(o, "floor", crmt_loan_class_code(l->floor));
    cJSON_AddStringToObject(o, "bank", crmt_loan_class_code(l->bank));
    cJSON_AddStringToObject(o, "effective", crmt_loan_class_code(l->effective));
    cJSON_AddBoolToObject(o, "bank_kinder_than_floor", l->bank_kinder_than_floor);
    cJSON_AddStringToObject(o, "upgrade", crmt_loan_upgrade_code(l->upgrade));
    cJSON_AddNumberToObject(o, "clean_months", l->clean_months);
    cJSON_AddNumberToObject(o, "clean_periods", l->clean_periods);
    if (l->has_expected_loss) {
        char ratio[64];
        CHECK(crmt_loan_result_expected_loss(r, index, ratio, sizeof ratio, NULL) == CRMT_OK, "expected_loss");
        cJSON_AddStringToObject(o, "expected_loss", ratio);
    }
    return o;
}

static cJSON *signal_json(const crmt_loan_result *r, const crmt_loan_signal *s, size_t customer) {
    const char *code = crmt_loan_signal_kind_code(s->kind);
    CHECK(spec_signal(code, (int)s->kind, crmt_loan_signal_kind_name_zh(s->kind)), "signal %s is %d %s", code,
          (int)s->kind, crmt_loan_signal_kind_name_zh(s->kind));
    CHECK(s->customer_index == customer, "signal of customer %zu", s->customer_index);
    char line[1024], boundary[32] = "-";
    if (s->boundary != CRMT_LOAN_NO_VALUE) snprintf(boundary, sizeof boundary, "%lld", (long long)s->boundary);
    int n = snprintf(line, sizeof line, "%s %s days=%u boundary=%s floor=%s bank=%s effective=%s",
                     loan_id(r, s->loan_index), code, s->overdue_days, boundary, crmt_loan_class_code(s->floor),
                     crmt_loan_class_code(s->bank), crmt_loan_class_code(s->effective));
    if (s->clean_months != CRMT_LOAN_NO_VALUE && n > 0 && (size_t)n < sizeof line) {
        snprintf(line + n, sizeof line - (size_t)n, " clean=%lld/%lld", (long long)s->clean_months,
                 (long long)s->clean_periods);
    }
    return cJSON_CreateString(line);
}

/* The states the result writes, as text (malloc'd). */
static char *states_text(const crmt_loan_result *r) {
    crmt_buffer *b = NULL;
    CHECK(crmt_loan_result_states_jsonl(r, &b) == CRMT_OK, "states_jsonl");
    char *text = strdup(b ? (const char *)crmt_buffer_data(b) : "");
    crmt_buffer_free(b);
    return text;
}

/* The result of the vector's one customer as the vector writes it. */
static cJSON *outcome_json(const crmt_loan_result *r, const char *customer, int month, int with_state) {
    size_t n = 0, nl = 0, ns = 0;
    const crmt_loan_customer *cs = crmt_loan_result_customers(r, &n);
    const crmt_loan *ls = crmt_loan_result_loans(r, &nl);
    const crmt_loan_signal *ss = crmt_loan_result_signals(r, &ns);
    CHECK(n == 1, "%zu customers", n);
    CHECK(crmt_loan_result_month(r) == month, "month %d", crmt_loan_result_month(r));
    if (n < 1) return cJSON_CreateNull();
    char id[512];
    CHECK(crmt_loan_result_customer_id(r, 0, id, sizeof id, NULL) == CRMT_OK && strcmp(id, customer) == 0,
          "customer `%s`", id);
    cJSON *o = cJSON_CreateObject();
    cJSON *loans = cJSON_AddArrayToObject(o, "loans");
    CHECK(cs[0].first_loan + cs[0].loan_count <= nl, "loan range");
    for (size_t i = cs[0].first_loan; i < cs[0].first_loan + cs[0].loan_count && i < nl; i++) {
        CHECK(ls[i].customer_index == 0, "loan %zu of customer %zu", i, ls[i].customer_index);
        cJSON_AddItemToArray(loans, loan_json(r, &ls[i], i));
    }
    cJSON_AddItemToObject(o, "worst", code_or_null(crmt_loan_class_code(cs[0].worst)));
    cJSON_AddItemToObject(o, "trend", code_or_null(crmt_loan_trend_code(cs[0].trend)));
    cJSON_AddBoolToObject(o, "has_non_performing", cs[0].has_non_performing);
    cJSON *signals = cJSON_AddArrayToObject(o, "signals");
    CHECK(cs[0].first_signal + cs[0].signal_count <= ns, "signal range");
    for (size_t i = cs[0].first_signal; i < cs[0].first_signal + cs[0].signal_count && i < ns; i++) {
        cJSON_AddItemToArray(signals, signal_json(r, &ss[i], 0));
    }
    if (with_state) {
        char *text = states_text(r);
        cJSON *line = cJSON_Parse(text);
        cJSON *state = cJSON_DetachItemFromObjectCaseSensitive(line, "state");
        cJSON_AddItemToObject(o, "state", state ? state : cJSON_CreateNull());
        cJSON_Delete(line);
        free(text);
    }
    return o;
}

/* Pushes a month's records (customer and month defaulting to the vector's), keeping each
 * record's loan id by index in `ids` (at most `max`); the number pushed. */
static size_t push_month(crmt_loan_records *rec, const cJSON *loans, const char *customer, int month,
                         const char **ids, size_t max) {
    size_t n = 0;
    const cJSON *l = NULL;
    cJSON_ArrayForEach(l, loans) {
        const char *c = text_of(l, "customer_id");
        const char *m = text_of(l, "month");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(l, "principal_overdue_days");
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(l, "interest_overdue_days");
        crmt_result code = crmt_loan_records_push(
            rec, c ? c : customer, text_of(l, "loan_id"), m ? yyyymm(m) : month, (int64_t)p->valuedouble,
            (int64_t)i->valuedouble, text_of(l, "bank_class"), text_of(l, "expected_loss"),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "repayment_due")));
        CHECK(code == CRMT_OK, "push %zu: %s", n, last_message());
        if (n < max) ids[n] = text_of(l, "loan_id");
        n++;
    }
    return n;
}

/* The customer of a record of another customer than the vector's; NULL when none. */
static const char *another_customer(const cJSON *loans, const char *customer) {
    const cJSON *l = NULL;
    cJSON_ArrayForEach(l, loans) {
        const char *c = text_of(l, "customer_id");
        if (c && strcmp(c, customer) != 0) return c;
    }
    return NULL;
}

static const char *category(crmt_result code) {
    switch (code) {
    case CRMT_RULES_ERROR: return "rules";
    case CRMT_INPUT_ERROR: return "input";
    case CRMT_SEQUENCE_ERROR: return "sequence";
    default: return crmt_result_name(code);
    }
}

/* The details of a failed month as the vector writes an error. */
static cJSON *error_json(crmt_result code, const char **ids, size_t pushed) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "category", category(code));
    char customer[512], table[64], month[16];
    uint64_t row = 0;
    crmt_last_error_customer(customer, sizeof customer, NULL);
    cJSON_AddStringToObject(o, "customer", customer);
    crmt_last_error_record(&row, table, sizeof table, NULL);
    CHECK(table[0] == 0 || strcmp(table, "loans") == 0, "record table `%s`", table);
    if (table[0] && row < pushed) cJSON_AddStringToObject(o, "loan", ids[row]);
    else cJSON_AddNullToObject(o, "loan");
    int m = crmt_last_error_month();
    snprintf(month, sizeof month, "%04d-%02d", m / 100, m % 100);
    cJSON_AddStringToObject(o, "month", month);
    cJSON_AddStringToObject(o, "field", last_field());
    cJSON_AddStringToObject(o, "message", last_message());
    return o;
}

static void compare(const char *what, int index, const cJSON *want, const cJSON *got) {
    if (!cJSON_Compare(want, got, 1)) {
        char *w = cJSON_PrintUnformatted(want), *g = cJSON_PrintUnformatted(got);
        CHECK(0, "months[%d] %s:\n  expected %s\n  got      %s", index, what, w, g);
        free(w);
        free(g);
    }
}

/* A settings error: the book is refused on `loans.<field>` with the core's message. */
static void settings_error(const char *settings, const cJSON *want) {
    crmt_rulebook *book = NULL;
    crmt_result code = book_with(settings, &book);
    CHECK(code == CRMT_RULES_ERROR && book == NULL, "the book loaded (%s)", crmt_result_name(code));
    char field[128];
    snprintf(field, sizeof field, "loans.%s", text_of(want, "field"));
    CHECK(strcmp(last_field(), field) == 0, "field `%s`, expected `%s`", last_field(), field);
    /* The core's message without "invalid loan settings: <field>: " and the position, which the
     * book gives in its own lines. */
    const char *message = text_of(want, "message");
    char core[1024];
    if (message) {
        const char *rest = strstr(message, ": ");
        rest = rest ? strstr(rest + 2, ": ") : NULL;
        snprintf(core, sizeof core, "%s", rest ? rest + 2 : message);
        char *at = strstr(core, " (line ");
        if (at) *at = 0;
    } else {
        snprintf(core, sizeof core, "%s", text_of(want, "message_contains"));
    }
    CHECK(strstr(last_message(), core) != NULL, "message `%s` lacks `%s`", last_message(), core);
    crmt_rulebook_free(book);
}

/* The initial state as one JSON line of the vector's customer; NULL without one. */
static crmt_loan_states *initial_states(const cJSON *v, const char *customer) {
    const cJSON *initial = cJSON_GetObjectItemCaseSensitive(v, "initial_state");
    if (!initial) return NULL;
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "customer_id", customer);
    cJSON_AddItemToObject(line, "state", cJSON_Duplicate(initial, 1));
    char *text = cJSON_PrintUnformatted(line);
    crmt_loan_states *s = NULL;
    CHECK(crmt_loan_states_from_jsonl((const uint8_t *)text, strlen(text), &s) == CRMT_OK, "initial state: %s",
          last_message());
    free(text);
    cJSON_Delete(line);
    return s;
}

static void run_month(const crmt_rulebook *book, const cJSON *m, int i, const char *customer,
                      crmt_loan_states **states) {
    int month = yyyymm(text_of(m, "month"));
    crmt_loan_records *rec = NULL;
    CHECK(crmt_loan_records_new(&rec) == CRMT_OK, "records_new");
    const char *ids[256];
    size_t pushed = push_month(rec, cJSON_GetObjectItemCaseSensitive(m, "loans"), customer, month, ids, 256);
    crmt_loan_result *r = NULL;
    crmt_result code = crmt_loans_evaluate(book, month, rec, *states, &r);
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(m, "expected");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(m, "expect_error");
    const char *other = another_customer(cJSON_GetObjectItemCaseSensitive(m, "loans"), customer);
    if (other && error && strcmp(text_of(error, "field"), "customer_id") == 0) {
        /* The month groups records by their customer: a record of another customer is that
         * customer's, classified as such, never an error of the vector's customer. */
        size_t n = 0;
        char id[512] = "";
        crmt_loan_result_customers(r, &n);
        if (n > 0) crmt_loan_result_customer_id(r, 0, id, sizeof id, NULL);
        CHECK(code == CRMT_OK && n == 1 && strcmp(id, other) == 0, "months[%d]: the record is not `%s`'s (%s)", i,
              other, crmt_result_name(code));
    } else if (code == CRMT_OK && expected) {
        cJSON *got = outcome_json(r, customer, month, cJSON_HasObjectItem(expected, "state"));
        compare("expected", i, expected, got);
        cJSON_Delete(got);
        char *text = states_text(r);
        crmt_loan_states_free(*states);
        *states = NULL;
        CHECK(crmt_loan_states_from_jsonl((const uint8_t *)text, strlen(text), states) == CRMT_OK,
              "the states do not read back: %s", last_message());
        free(text);
    } else if (code != CRMT_OK && error) {
        cJSON *got = error_json(code, ids, pushed);
        compare("expect_error", i, error, got);
        cJSON_Delete(got);
        CHECK(r == NULL, "a refused month gave a result");
    } else {
        CHECK(0, "months[%d]: %s (%s)", i, code == CRMT_OK ? "evaluated, an error was expected" : last_message(),
              crmt_result_name(code));
    }
    crmt_loan_result_free(r);
    crmt_loan_records_free(rec);
}

static void run_vector(const char *name, const cJSON *v) {
    begin(name);
    const char *customer = text_of(v, "customer_id");
    const char *settings = text_of(v, "settings");
    const cJSON *settings_err = cJSON_GetObjectItemCaseSensitive(v, "expect_settings_error");
    if (settings_err) {
        settings_error(settings, settings_err);
        end();
        return;
    }
    crmt_rulebook *book = NULL;
    CHECK(book_with(settings, &book) == CRMT_OK, "book: %s", last_message());
    crmt_loan_states *states = initial_states(v, customer);
    int i = 0;
    const cJSON *m = NULL;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(v, "months")) {
        /* After an error the states are the same handle, unchanged: the next month reads them. */
        run_month(book, m, i++, customer, &states);
    }
    crmt_loan_states_free(states);
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
    begin("loan vectors folder");
    CHECK(n >= 20, "expected the loan vectors in %s, found %d", dir, n);
    end();
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
        char *text = read_file(path, NULL);
        cJSON *v = text ? cJSON_Parse(text) : NULL;
        if (v) {
            run_vector(list[i]->d_name, v);
        } else {
            begin(list[i]->d_name);
            CHECK(0, "not readable JSON");
            end();
        }
        cJSON_Delete(v);
        free(text);
        free(list[i]);
    }
    free(list);
}


static crmt_loan_records *new_records(void) {
    crmt_loan_records *r = NULL;
    CHECK(crmt_loan_records_new(&r) == CRMT_OK, "records_new");
    return r;
}

static crmt_result push(crmt_loan_records *r, const char *customer, const char *loan, int month, int64_t days,
                        const char *bank, const char *ratio) {
    return crmt_loan_records_push(r, customer, loan, month, days, 0, bank, ratio, false);
}

static void check_record(const char *table, uint64_t row, const char *what) {
    char got[64];
    uint64_t r = 99;
    crmt_last_error_record(&r, got, sizeof got, NULL);
    CHECK(strcmp(got, table) == 0 && r == row, "%s: record %s %llu, expected %s %llu", what, got,
          (unsigned long long)r, table, (unsigned long long)row);
}

static void test_bad_input(void) {
    crmt_rulebook *book = NULL;
    CHECK(book_with(NULL, &book) == CRMT_OK, "default book");

    begin("a refused month names the first customer's record and field, and lists every customer's error");
    crmt_loan_records *r = new_records();
    CHECK(push(r, "c1", "L1", 202403, 0, "normal", NULL) == CRMT_OK, "c1");
    CHECK(push(r, "c2", "L1", 202403, 0, "pass", NULL) == CRMT_OK, "c2 L1");
    CHECK(push(r, "c2", "L2", 202403, 0, "2", "0.35") == CRMT_OK, "c2 L2");
    CHECK(push(r, "c3", "L1", 202402, 0, "正常", NULL) == CRMT_OK, "c3");
    crmt_loan_result *out = NULL;
    CHECK(crmt_loans_evaluate(book, 202403, r, NULL, &out) == CRMT_INPUT_ERROR && out == NULL, "refused");
    char customer[64];
    crmt_last_error_customer(customer, sizeof customer, NULL);
    CHECK(strcmp(customer, "c2") == 0, "customer `%s`", customer);
    CHECK(strcmp(last_field(), "bank_class") == 0, "field `%s`", last_field());
    CHECK(crmt_last_error_month() == 202403, "month %d", crmt_last_error_month());
    check_record("loans", 1, "bad class");
    const char *first = "invalid loan record for customer `c2`, loan `L1`, month 2024-03, field `bank_class`: "
                        "unknown loan class `pass` (expected normal, special_mention, substandard, doubtful, loss; "
                        "正常, 关注, 次级, 可疑, 损失; or 1 to 5)\n";
    CHECK(strncmp(last_message(), first, strlen(first)) == 0, "message `%s`", last_message());
    CHECK(strstr(last_message(), "customer `c3`, loan `L1`, month 2024-03, field `month`: the record is for month "
                                 "2024-02") != NULL, "second line `%s`", last_message());
    crmt_loan_records_free(r);
    end();

    begin("a loan twice names the second record and the first as the other");
    r = new_records();
    CHECK(push(r, "c1", "L1", 202403, 0, "normal", NULL) == CRMT_OK, "L1");
    CHECK(push(r, "c1", "L2", 202403, 0, "normal", NULL) == CRMT_OK, "L2");
    CHECK(push(r, "c1", "L1", 202403, 3, "normal", NULL) == CRMT_OK, "L1 again");
    CHECK(crmt_loans_evaluate(book, 202403, r, NULL, &out) == CRMT_INPUT_ERROR, "refused");
    check_record("loans", 2, "duplicate");
    uint64_t row = 99;
    char table[16];
    crmt_last_error_other_record(&row, table, sizeof table, NULL);
    CHECK(strcmp(table, "loans") == 0 && row == 0, "other record %s %llu", table, (unsigned long long)row);
    /* A ratio outside 0 to 1 is the core's input error; one that is no decimal, the push's. */
    CHECK(push(r, "c9", "L1", 202403, 0, "normal", "1.5") == CRMT_OK, "ratio 1.5 is pushed");
    CHECK(push(r, "c9", "L2", 202403, 0, "normal", "0,5") == CRMT_INVALID_AMOUNT, "ratio 0,5");
    CHECK(strcmp(last_field(), "expected_loss") == 0, "field `%s`", last_field());
    check_record("loans", 4, "bad ratio");
    CHECK(strncmp(last_message(), "loan record 4: ", 15) == 0, "message `%s`", last_message());
    crmt_loan_records_free(r);
    end();

    begin("a push refuses what it cannot hold, naming the field and the index, and adds nothing");
    r = new_records();
    CHECK(push(r, NULL, "L1", 202403, 0, "normal", NULL) == CRMT_NULL_ARGUMENT, "no customer");
    CHECK(strcmp(last_field(), "customer_id") == 0, "field `%s`", last_field());
    check_record("loans", 0, "no customer");
    CHECK(push(r, "c1", "L1", 202413, 0, "normal", NULL) == CRMT_INVALID_MONTH, "month 13");
    CHECK(strcmp(last_field(), "month") == 0, "field `%s`", last_field());
    CHECK(push(r, "c1", "\xff", 202403, 0, "normal", NULL) == CRMT_INVALID_UTF8, "not UTF-8");
    CHECK(strcmp(last_field(), "loan_id") == 0, "field `%s`", last_field());
    CHECK(push(r, "c1", "L1", 202403, 0, NULL, NULL) == CRMT_NULL_ARGUMENT, "no class");
    CHECK(crmt_loan_records_count(r) == 0, "count %zu", crmt_loan_records_count(r));
    CHECK(push(r, "c1", "L1", 202403, 0, "normal", NULL) == CRMT_OK, "then a good one");
    CHECK(crmt_loan_records_count(r) == 1, "count %zu", crmt_loan_records_count(r));
    crmt_loan_records_free(r);
    end();

    begin("states: a bad line is named, a skipped month is a sequence error without a record");
    const char *bad = "{\"customer_id\":\"c1\",\"state\":{\"month\":null,\"loans\":{}}}\n{\"customer\":\"c2\"}\n";
    crmt_loan_states *states = NULL;
    CHECK(crmt_loan_states_from_jsonl((const uint8_t *)bad, strlen(bad), &states) == CRMT_STATE_ERROR, "bad line");
    CHECK(states == NULL, "a refused text gave states");
    check_record("states", 2, "bad line");
    CHECK(strncmp(last_message(), "states line 2: not a loan state", 31) == 0, "message `%s`", last_message());
    const char *twice = "{\"customer_id\":\"c1\",\"state\":{}}\n{\"customer_id\":\"c1\",\"state\":{}}\n";
    CHECK(crmt_loan_states_from_jsonl((const uint8_t *)twice, strlen(twice), &states) == CRMT_STATE_ERROR, "twice");
    crmt_last_error_customer(customer, sizeof customer, NULL);
    CHECK(strcmp(customer, "c1") == 0, "customer `%s`", customer);
    const char *jan = "{\"customer_id\":\"c1\",\"state\":{\"month\":\"2024-01\",\"loans\":{\"L1\":{\"floor\":"
                      "\"normal\",\"bank\":\"normal\",\"effective\":\"normal\",\"clean_months\":1,\"clean_periods\":0}}}}\n";
    CHECK(crmt_loan_states_from_jsonl((const uint8_t *)jan, strlen(jan), &states) == CRMT_OK, "january");
    CHECK(crmt_loan_states_count(states) == 1, "one customer");
    r = new_records();
    CHECK(crmt_loans_evaluate(book, 202403, r, states, &out) == CRMT_SEQUENCE_ERROR, "march after january");
    CHECK(strcmp(last_field(), "month") == 0, "field `%s`", last_field());
    check_record("", 0, "no record");
    CHECK(strcmp(last_message(), "customer `c1`: loan month 2024-03 follows 2024-01 but 2024-02 is missing (the "
                                 "clean window counts consecutive months)") == 0, "message `%s`", last_message());
    /* February: the loan closed (no record), the customer is still classified, without loans. */
    CHECK(crmt_loans_evaluate(book, 202402, r, states, &out) == CRMT_OK, "february: %s", last_message());
    size_t n = 0;
    const crmt_loan_customer *cs = crmt_loan_result_customers(out, &n);
    CHECK(n == 1 && cs[0].loan_count == 0 && cs[0].worst == CRMT_LOAN_CLASS_NONE &&
              cs[0].trend == CRMT_LOAN_TREND_NONE && !cs[0].has_non_performing, "closed loans");
    crmt_loan_result_free(out);
    crmt_loan_states_free(states);
    crmt_loan_records_free(r);
    end();
    crmt_rulebook_free(book);
}

static void test_misuse(void) {
    begin("misuse: NULL arguments, a bad month, an index past the end, a freed handle, another kind");
    crmt_rulebook *book = NULL;
    CHECK(book_with(NULL, &book) == CRMT_OK, "default book");
    crmt_loan_records *r = new_records();
    CHECK(push(r, "customer-with-a-long-id", "L1", 202403, 100, "normal", "0.125") == CRMT_OK, "push");
    crmt_loan_result *out = NULL;
    CHECK(crmt_loans_evaluate(NULL, 202403, r, NULL, &out) == CRMT_NULL_ARGUMENT, "no book");
    CHECK(crmt_loans_evaluate(book, 202403, NULL, NULL, &out) == CRMT_NULL_ARGUMENT, "no records");
    CHECK(crmt_loans_evaluate(book, 202403, r, NULL, NULL) == CRMT_NULL_ARGUMENT, "no out");
    CHECK(crmt_loans_evaluate(book, 0, r, NULL, &out) == CRMT_INVALID_MONTH, "month 0");
    CHECK(crmt_loans_evaluate(book, 202403, (const crmt_loan_records *)book, NULL, &out) == CRMT_INVALID_ARGUMENT,
          "a rule book as records");
    CHECK(strcmp(last_field(), "records") == 0, "field `%s`", last_field());
    CHECK(out == NULL, "a refused call gave a result");
    CHECK(crmt_loans_evaluate(book, 202403, r, NULL, &out) == CRMT_OK, "evaluate: %s", last_message());
    char small[4], ratio[16];
    size_t written = 0;
    CHECK(crmt_loan_result_customer_id(out, 0, small, sizeof small, &written) == CRMT_BUFFER_TOO_SMALL &&
              written == strlen("customer-with-a-long-id"), "a small buffer (%zu)", written);
    CHECK(crmt_loan_result_expected_loss(out, 0, ratio, sizeof ratio, NULL) == CRMT_OK &&
              strcmp(ratio, "0.125") == 0, "ratio `%s`", ratio);
    CHECK(crmt_loan_result_loan_id(out, 1, ratio, sizeof ratio, NULL) == CRMT_INDEX_OUT_OF_RANGE, "loan 1");
    CHECK(crmt_loan_result_customer_id(out, 0, ratio, SIZE_MAX, NULL) == CRMT_INVALID_ARGUMENT, "len SIZE_MAX");
    crmt_loan_states *states = NULL;
    CHECK(crmt_loan_states_from_jsonl((const uint8_t *)"", SIZE_MAX / 2, &states) == CRMT_INVALID_ARGUMENT &&
              strcmp(last_field(), "len") == 0 && states == NULL, "states of SIZE_MAX / 2 bytes");
    CHECK(crmt_loan_states_from_jsonl(NULL, 0, &states) == CRMT_OK && crmt_loan_states_count(states) == 0,
          "no text is no state");
    crmt_loan_states_free(states);
    CHECK(crmt_loan_result_customer_id(out, SIZE_MAX, ratio, sizeof ratio, NULL) == CRMT_INDEX_OUT_OF_RANGE,
          "SIZE_MAX");
    CHECK(strcmp(crmt_loan_class_code(0), "") == 0 && strcmp(crmt_loan_signal_kind_code(2206), "") == 0,
          "no code for none or an unknown value");
    CHECK(strcmp(crmt_loan_class_name_zh(CRMT_LOAN_CLASS_DOUBTFUL), "可疑") == 0, "可疑");
    CHECK(strcmp(crmt_loan_trend_name_zh(CRMT_LOAN_TREND_BETTER), "好转") == 0, "好转");
    crmt_loan_result_free(out);
    size_t count = 7;
    CHECK(crmt_loan_result_customers(out, &count) == NULL && count == 0, "customers of a freed result");
    CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT, "recorded");
    crmt_buffer *text = NULL;
    CHECK(crmt_loan_result_states_jsonl(out, &text) == CRMT_INVALID_ARGUMENT && text == NULL, "states of freed");
    crmt_loan_result_free(out);
    CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT && strcmp(last_field(), "result") == 0,
          "a double free is refused");
    crmt_loan_records_free(r);
    CHECK(push(r, "c1", "L1", 202403, 0, "normal", NULL) == CRMT_INVALID_ARGUMENT, "push to freed records");
    crmt_loan_records_free(NULL);
    crmt_loan_states_free(NULL);
    crmt_loan_result_free(NULL);
    crmt_rulebook_free(book);
    end();
}

int main(int argc, char **argv) {
    run_vectors(argc > 1 ? argv[1] : "rules-spec/loan-vectors");
    test_bad_input();
    test_misuse();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
