/*
 * C tests of the contribution month (crmt_contribution_*, SPEC §20): every contribution vector
 * of rules-spec/contribution-vectors/ (SPEC §20.9) through the C ABI. A case with expected
 * figures is computed and its customers (and managers, and the unassigned figures, where the
 * vector gives them) are compared entry by entry, each figure given in the vector against the
 * struct's fen, found by the library's name for it; the JSON document must hold the same
 * customers. A case with expected errors must fail with the category of its first error
 * (CRMT_RULES_ERROR for the rule book's, CRMT_INPUT_ERROR otherwise) and every expected message,
 * in order, one a line of the details' message. Then misuse: NULL arguments, a bad month, an
 * index past the end, a freed handle.
 *
 * The vectors are TOML; scripts/contribution-vectors-json.py writes them as one JSON list first
 * (run-tests.sh does it).
 *
 * Usage: test_contribution <contribution-vectors.json>
 * Prints one line per failure and a closing "N passed, N failed".
 */
#define _DEFAULT_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crm_tiering.h"

#include "harness.h"

/* The whole message of the last failure (every error, one a line), malloc'd. */
static char *whole_message(void) {
    size_t n = 0;
    crmt_last_error_message(NULL, 0, &n);
    char *buf = malloc(n + 1);
    if (buf && crmt_last_error_message(buf, n + 1, NULL) != CRMT_OK) buf[0] = 0;
    return buf;
}

/* An amount in fen as the vectors write it: "1640.27", "-0.05". */
static void fen_text(int64_t fen, char *out, size_t len) {
    uint64_t a = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
    snprintf(out, len, "%s%" PRIu64 ".%02" PRIu64, fen < 0 ? "-" : "", a / 100, a % 100);
}

/* The index of a figure by its name (the library's), or -1. */
static int figure_index(const char *name) {
    for (size_t i = 0; i < CRMT_CONTRIBUTION_FIGURES; i++) {
        const char *n = crmt_contribution_figure_name(i);
        if (n && strcmp(n, name) == 0) return (int)i;
    }
    return -1;
}

/* A vector's value as text (strings as they are, numbers as integers). */
static void value_text(const cJSON *v, char *out, size_t len) {
    if (cJSON_IsString(v)) snprintf(out, len, "%s", v->valuestring);
    else if (cJSON_IsNumber(v)) snprintf(out, len, "%.0f", v->valuedouble);
    else snprintf(out, len, "?");
}

/* A customer's allocated costs by pool as the vectors write them, "ops=33.34 branch_b=19.23",
 * from the JSON document's `allocated_by_pool` (the C structs hold no list of pools). */
static void by_pool_text(const cJSON *customer, char *out, size_t len) {
    size_t at = 0;
    out[0] = 0;
    const cJSON *p = NULL;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(customer, "allocated_by_pool")) {
        const cJSON *pool = cJSON_GetObjectItemCaseSensitive(p, "pool");
        const cJSON *amount = cJSON_GetObjectItemCaseSensitive(p, "amount");
        if (!cJSON_IsString(pool) || !cJSON_IsString(amount) || at >= len) break;
        at += (size_t)snprintf(out + at, len - at, "%s%s=%s", at ? " " : "", pool->valuestring, amount->valuestring);
    }
}

/* Each field an expected entry gives: a figure (compared with `f`), `key` (the id) and
 * `count_key` (compared with `id` and `count`), or `by_pool` (with the JSON entry `json`). */
static void compare_entry(const char *list, int i, const cJSON *want, const char *key, const char *id,
                          const char *count_key, size_t count, const crmt_contribution_figures *f,
                          const cJSON *json) {
    const cJSON *field = NULL;
    cJSON_ArrayForEach(field, want) {
        char expected[128], got[128];
        value_text(field, expected, sizeof expected);
        int at = figure_index(field->string);
        if (key && strcmp(field->string, key) == 0) snprintf(got, sizeof got, "%s", id);
        else if (count_key && strcmp(field->string, count_key) == 0) snprintf(got, sizeof got, "%zu", count);
        else if (at >= 0) fen_text(f->fen[at], got, sizeof got);
        else if (json && strcmp(field->string, "by_pool") == 0) by_pool_text(json, got, sizeof got);
        else snprintf(got, sizeof got, "(no such field)");
        CHECK(strcmp(expected, got) == 0, "%s[%d].%s: expected %s, got %s", list, i, field->string, expected, got);
    }
}

static void compare_customers(const crmt_contribution *c, const cJSON *want, const cJSON *json) {
    size_t n = crmt_contribution_customer_count(c);
    const cJSON *listed = cJSON_GetObjectItemCaseSensitive(json, "customers");
    CHECK(n == (size_t)cJSON_GetArraySize(want), "customers: expected %d, computed %zu", cJSON_GetArraySize(want), n);
    CHECK(n == (size_t)cJSON_GetArraySize(listed), "json customers: %d, not %zu", cJSON_GetArraySize(listed), n);
    for (size_t i = 0; i < n && i < (size_t)cJSON_GetArraySize(want); i++) {
        char id[256];
        crmt_contribution_figures f;
        CHECK(crmt_contribution_customer_id(c, i, id, sizeof id, NULL) == CRMT_OK, "customer_id %zu", i);
        CHECK(crmt_contribution_customer_figures(c, i, &f) == CRMT_OK, "customer_figures %zu", i);
        const cJSON *j = cJSON_GetArrayItem(listed, (int)i);
        compare_entry("customers", (int)i, cJSON_GetArrayItem(want, (int)i), "customer", id, NULL, 0, &f, j);
        /* The JSON document holds the same customer, every figure as the struct's text. */
        const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "customer");
        CHECK(cJSON_IsString(jid) && strcmp(jid->valuestring, id) == 0, "json customers[%zu] is not %s", i, id);
        for (size_t k = 0; k < CRMT_CONTRIBUTION_FIGURES; k++) {
            char text[64];
            fen_text(f.fen[k], text, sizeof text);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, crmt_contribution_figure_name(k));
            CHECK(cJSON_IsString(v) && strcmp(v->valuestring, text) == 0, "json customers[%zu].%s is not %s", i,
                  crmt_contribution_figure_name(k), text);
        }
    }
}

static void compare_managers(const crmt_contribution *c, const cJSON *want) {
    size_t n = crmt_contribution_manager_count(c);
    CHECK(n == (size_t)cJSON_GetArraySize(want), "managers: expected %d, computed %zu", cJSON_GetArraySize(want), n);
    for (size_t i = 0; i < n && i < (size_t)cJSON_GetArraySize(want); i++) {
        char id[256];
        size_t customers = 0;
        crmt_contribution_figures f;
        CHECK(crmt_contribution_manager_id(c, i, id, sizeof id, NULL) == CRMT_OK, "manager_id %zu", i);
        CHECK(crmt_contribution_manager_figures(c, i, &customers, &f) == CRMT_OK, "manager_figures %zu", i);
        compare_entry("managers", (int)i, cJSON_GetArrayItem(want, (int)i), "manager", id, "customers", customers, &f, NULL);
    }
}

static void compare_errors(const cJSON *want, crmt_result code) {
    const cJSON *first = cJSON_GetArrayItem(want, 0);
    crmt_result category =
        first && strncmp(first->valuestring, "rule book", 9) == 0 ? CRMT_RULES_ERROR : CRMT_INPUT_ERROR;
    CHECK(code == category, "expected %s, got %s", crmt_result_name(category), crmt_result_name(code));
    char *message = whole_message();
    char *line = message;
    int i = 0;
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, want) {
        char *next = line ? strchr(line, '\n') : NULL;
        if (next) *next = 0;
        CHECK(line && strcmp(line, e->valuestring) == 0, "error %d: expected `%s`, got `%s`", i, e->valuestring,
              line ? line : "(none)");
        line = next ? next + 1 : NULL;
        i++;
    }
    CHECK(line == NULL, "more errors than expected: `%s`", line ? line : "");
    free(message);
}

static const char *text_of(const cJSON *v, const char *key) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, key);
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static void run_vector(const cJSON *v) {
    begin(text_of(v, "name"));
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(v, "expected");
    const char *month = text_of(v, "month");
    int year = 0, mon = 0;
    CHECK(month && sscanf(month, "%d-%d", &year, &mon) == 2, "month %s", month ? month : "(none)");
    crmt_contribution *c = NULL;
    crmt_result code = crmt_contribution_compute(
        text_of(v, "book"), year * 100 + mon, text_of(v, "account_months"), text_of(v, "fees"),
        text_of(v, "cost_pools"), text_of(v, "activities"), text_of(v, "direct_costs"), text_of(v, "assignments"), &c);
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(expected, "errors");
    if (errors) {
        CHECK(c == NULL, "a failed month gave a handle");
        compare_errors(errors, code);
    } else if (code != CRMT_OK) {
        char *message = whole_message();
        CHECK(0, "failed with %s: %s", crmt_result_name(code), message);
        free(message);
    } else {
        crmt_buffer *json = NULL;
        CHECK(crmt_contribution_to_json(c, &json) == CRMT_OK, "to_json");
        cJSON *doc = cJSON_Parse((const char *)crmt_buffer_data(json));
        CHECK(doc != NULL, "the JSON does not parse");
        CHECK(crmt_contribution_month(c) == year * 100 + mon, "month %d", crmt_contribution_month(c));
        compare_customers(c, cJSON_GetObjectItemCaseSensitive(expected, "customers"), doc);
        const cJSON *managers = cJSON_GetObjectItemCaseSensitive(expected, "managers");
        if (managers) compare_managers(c, managers);
        const cJSON *unassigned = cJSON_GetObjectItemCaseSensitive(expected, "unassigned");
        if (unassigned) {
            crmt_contribution_figures f;
            CHECK(crmt_contribution_unassigned(c, &f) == CRMT_OK, "unassigned");
            compare_entry("unassigned", 0, unassigned, NULL, "", NULL, 0, &f, NULL);
        }
        cJSON_Delete(doc);
        crmt_buffer_free(json);
    }
    crmt_contribution_free(c);
    end();
}

static void test_misuse(const cJSON *first) {
    begin("misuse");
    const char *book = text_of(first, "book"), *accounts = text_of(first, "account_months");
    crmt_contribution *c = NULL;
    CHECK(crmt_contribution_compute(NULL, 202403, accounts, NULL, NULL, NULL, NULL, NULL, &c) == CRMT_NULL_ARGUMENT,
          "no book");
    CHECK(crmt_contribution_compute(book, 202403, NULL, NULL, NULL, NULL, NULL, NULL, &c) == CRMT_NULL_ARGUMENT,
          "no accounts");
    CHECK(crmt_contribution_compute(book, 202413, accounts, NULL, NULL, NULL, NULL, NULL, &c) == CRMT_INVALID_MONTH,
          "month 13");
    CHECK(crmt_contribution_compute(book, 202403, accounts, NULL, NULL, NULL, NULL, NULL, NULL) == CRMT_NULL_ARGUMENT,
          "no out");
    CHECK(c == NULL, "a refused call gave a handle");
    CHECK(crmt_contribution_figure_name(CRMT_CONTRIBUTION_FIGURES) == NULL, "a name past the end");
    end();

    begin("an index past the end, a freed handle, a double free: refused, never read");
    CHECK(crmt_contribution_compute(book, 202403, accounts, NULL, NULL, NULL, NULL, NULL, &c) == CRMT_OK, "compute");
    size_t n = crmt_contribution_customer_count(c);
    crmt_contribution_figures f;
    char id[64];
    CHECK(crmt_contribution_customer_figures(c, n, &f) == CRMT_INDEX_OUT_OF_RANGE, "figures past the end");
    CHECK(crmt_contribution_customer_id(c, SIZE_MAX, id, sizeof id, NULL) == CRMT_INDEX_OUT_OF_RANGE, "SIZE_MAX");
    CHECK(crmt_contribution_customer_figures(c, 0, NULL) == CRMT_NULL_ARGUMENT, "no out");
    crmt_contribution_free(c);
    crmt_buffer *json = NULL;
    CHECK(crmt_contribution_customer_count(c) == 0 && crmt_last_error_code() == CRMT_INVALID_ARGUMENT, "count");
    CHECK(crmt_contribution_customer_figures(c, 0, &f) == CRMT_INVALID_ARGUMENT, "figures of a freed month");
    CHECK(crmt_contribution_manager_figures(c, 0, NULL, &f) == CRMT_INVALID_ARGUMENT, "managers of a freed month");
    CHECK(crmt_contribution_to_json(c, &json) == CRMT_INVALID_ARGUMENT && json == NULL, "json of a freed month");
    crmt_contribution_free(c);
    CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT, "a double free is refused");
    char field[64];
    crmt_last_error_field(field, sizeof field, NULL);
    CHECK(strcmp(field, "contribution") == 0, "field `%s`", field);
    crmt_contribution_free(NULL);
    end();
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "contribution-vectors.json";
    char *text = read_file(path, NULL);
    cJSON *cases = text ? cJSON_Parse(text) : NULL;
    begin("contribution vectors");
    CHECK(cJSON_GetArraySize(cases) > 0, "no vectors in %s", path);
    end();
    const cJSON *v = NULL;
    cJSON_ArrayForEach(v, cases) run_vector(v);
    if (cases) test_misuse(cJSON_GetArrayItem(cases, 0));
    cJSON_Delete(cases);
    free(text);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
