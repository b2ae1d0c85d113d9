/*
 * C tests of an alert's severity (crmt_alert_severity, crmt_severity_code / _name_zh; SPEC
 * §11.1): the severity of every alert a portfolio run over a small book gives, against the
 * SPEC's table written below (the countdowns' boundary months_left 1 high / 2 medium
 * included); every kind with every count, through caller-filled alerts; the codes and names;
 * and the errors (NULL, an unknown kind, a negative count other than -1).
 *
 * Usage: test_severity
 * Prints one line per failure and a closing "N passed, N failed".
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_tiering.h"

#include "harness.h"

/* SPEC §11.1's table, by kind code: the kind's severity, and whether it is a countdown (then
 * `high` when months_left is at most 1). Written from the SPEC, not asked of the library. */
static const struct {
    const char *kind;
    crmt_severity severity;
    int countdown;
} SPEC_TABLE[] = {
    {"watch_active", CRMT_SEVERITY_MEDIUM, 1},
    {"exit_risk", CRMT_SEVERITY_MEDIUM, 1},
    {"in_retention", CRMT_SEVERITY_MEDIUM, 1},
    {"special_expiring", CRMT_SEVERITY_MEDIUM, 0},
    {"held_back", CRMT_SEVERITY_MEDIUM, 0},
    {"drop_pct", CRMT_SEVERITY_MEDIUM, 0},
    {"below_for", CRMT_SEVERITY_MEDIUM, 0},
    {"large_flow", CRMT_SEVERITY_MEDIUM, 0},
    {"dormant", CRMT_SEVERITY_HIGH, 0},
    {"reactivated", CRMT_SEVERITY_HIGH, 0},
    {"maturity_not_reinvested", CRMT_SEVERITY_HIGH, 0},
    {"upgrade_opportunity", CRMT_SEVERITY_LOW, 0},
    {"downgrade_risk", CRMT_SEVERITY_LOW, 0},
    {"potential_vip", CRMT_SEVERITY_LOW, 0},
};
#define SPEC_KINDS (sizeof SPEC_TABLE / sizeof SPEC_TABLE[0])

/* The severity the SPEC gives an alert of kind `kind` (a C value) with `months_left`; -1 when
 * the table has no row for the kind. */
static int spec_severity(int kind, int months_left) {
    const char *code = crmt_alert_kind_code(kind);
    for (size_t i = 0; i < SPEC_KINDS; i++) {
        if (strcmp(SPEC_TABLE[i].kind, code) == 0) {
            if (SPEC_TABLE[i].countdown && months_left >= 0 && months_left <= 1) return CRMT_SEVERITY_HIGH;
            return (int)SPEC_TABLE[i].severity;
        }
    }
    return -1;
}

/* The library's severity of `a`, or -1 (the failure recorded) when the call fails. */
static int severity_of(const crmt_alert *a) {
    crmt_severity s = CRMT_SEVERITY_LOW;
    crmt_result rc = crmt_alert_severity(a, &s);
    CHECK(rc == CRMT_OK, "crmt_alert_severity: %d %s", (int)rc, last_message());
    return rc == CRMT_OK ? (int)s : -1;
}

static void test_texts(void) {
    begin("the values are the work-list's order; the codes and names are SPEC §11.1's");
    CHECK(CRMT_SEVERITY_HIGH == 0 && CRMT_SEVERITY_MEDIUM == 1 && CRMT_SEVERITY_LOW == 2, "values");
    const char *codes[] = {"high", "medium", "low"};
    const char *zh[] = {"高", "中", "低"};
    for (int s = 0; s < 3; s++) {
        CHECK(strcmp(crmt_severity_code(s), codes[s]) == 0, "%d: `%s`", s, crmt_severity_code(s));
        CHECK(strcmp(crmt_severity_name_zh(s), zh[s]) == 0, "%d: `%s`", s, crmt_severity_name_zh(s));
    }
    CHECK(strcmp(crmt_severity_code(3), "") == 0 && strcmp(crmt_severity_code(-1), "") == 0, "unknown code");
    CHECK(strcmp(crmt_severity_name_zh(3), "") == 0 && strcmp(crmt_severity_name_zh(INT_MIN), "") == 0,
          "unknown name");
    /* The table names every kind the library has, and only those. */
    int kinds = 0;
    while (crmt_alert_kind_code(kinds)[0] != 0) kinds++;
    CHECK((size_t)kinds == SPEC_KINDS, "the library has %d alert kinds, the SPEC table %zu", kinds, SPEC_KINDS);
    for (int k = 0; k < kinds; k++) {
        CHECK(spec_severity(k, -1) >= 0, "kind %d `%s` is not in the SPEC table", k, crmt_alert_kind_code(k));
    }
    end();
}

/* A portfolio of the default book over 2024-01..2024-10, absent customers held: a platinum
 * customer on watch (2 then 1 month left), a gold one below entry (exit counter 5..1, then
 * retention 2 and 1), near-threshold customers (potential VIP, upgrade, downgrade), a special
 * VIP of three months (expiring with 2 and 1 left: not a countdown), one absent in March (held
 * back). Each alert's severity is checked against the SPEC table. */
static void test_portfolio_alerts(void) {
    begin("every alert of a portfolio run has the SPEC's severity");
    crmt_rulebook *book = NULL;
    CHECK(crmt_rulebook_default(&book) == CRMT_OK, "%s", last_message());
    crmt_portfolio *p = NULL;
    crmt_portfolio_new(&p);
    crmt_extract *x = NULL;
    crmt_extract_new(book, &x);
    const char *ids[] = {"watch", "exit", "potential", "upgrade", "downgrade", "special", "held"};
    uint64_t row = 0;
    for (int m = 1; m <= 10; m++) {
        int64_t fen[] = {m == 1 ? 60000000 : 30000000, m == 1 ? 25000000 : 1000000, 19000000, 48000000,
                         21000000, 100, 30000000};
        for (int i = 0; i < 7; i++) {
            if (i == 6 && m == 3) continue;
            crmt_extract_push_total_fen(x, "aum", row++, ids[i], NULL, CRMT_KIND_KEEP, 202400 + m, fen[i]);
        }
    }
    crmt_extract_push_grant(x, "special", 0, "special", 202401, "gold", 3);
    crmt_portfolio_result *r = NULL;
    crmt_portfolio_result_new(&r);
    crmt_portfolio_options o = {CRMT_ABSENT_HOLD, false, 1};
    CHECK(crmt_evaluate_portfolio(book, p, 202401, 202410, x, &o, r) == CRMT_OK, "%s", last_message());
    size_t n = 0;
    const crmt_alert *al = crmt_portfolio_result_alerts(r, &n);
    /* What the run must show for the test to mean something: each kind's C value, seen with
     * months_left 1 and with 2 (for the countdowns), or at all. */
    int seen_kind[32] = {0}, seen_one[32] = {0}, seen_two[32] = {0};
    for (size_t k = 0; k < n; k++) {
        int kind = (int)al[k].kind, left = al[k].months_left;
        int want = spec_severity(kind, left);
        int got = severity_of(&al[k]);
        CHECK(got == want, "%d %s %s months_left %d: %s, the SPEC says %s", al[k].month,
              ids[al[k].customer_index % 7], crmt_alert_kind_code(kind), left, crmt_severity_code(got),
              crmt_severity_code(want));
        if (kind >= 0 && kind < 32) {
            seen_kind[kind]++;
            seen_one[kind] += left == 1;
            seen_two[kind] += left == 2;
        }
    }
    CHECK(n >= 40, "%zu alerts", n);
    crmt_alert_kind countdowns[] = {CRMT_ALERT_WATCH_ACTIVE, CRMT_ALERT_EXIT_RISK, CRMT_ALERT_IN_RETENTION};
    for (int i = 0; i < 3; i++) {
        CHECK(seen_one[countdowns[i]] && seen_two[countdowns[i]], "%s not seen with 1 and 2 months left",
              crmt_alert_kind_code(countdowns[i]));
    }
    CHECK(seen_one[CRMT_ALERT_SPECIAL_EXPIRING], "special_expiring with 1 month left not seen");
    crmt_alert_kind others[] = {CRMT_ALERT_HELD_BACK, CRMT_ALERT_POTENTIAL_VIP, CRMT_ALERT_UPGRADE_OPPORTUNITY,
                                CRMT_ALERT_DOWNGRADE_RISK};
    for (int i = 0; i < 4; i++) {
        CHECK(seen_kind[others[i]], "no %s alert", crmt_alert_kind_code(others[i]));
    }
    crmt_portfolio_result_free(r);
    crmt_extract_free(x);
    crmt_portfolio_free(p);
    crmt_rulebook_free(book);
    end();
}

static void test_every_kind(void) {
    begin("every kind with every count, in alerts the caller filled");
    int counts[] = {-1, 0, 1, 2, 3, 12, INT_MAX};
    for (size_t i = 0; i < SPEC_KINDS; i++) {
        int kind = -1;
        for (int k = 0; k < 64 && kind < 0; k++) {
            if (strcmp(crmt_alert_kind_code(k), SPEC_TABLE[i].kind) == 0) kind = k;
        }
        CHECK(kind >= 0, "no C value for `%s`", SPEC_TABLE[i].kind);
        for (size_t c = 0; kind >= 0 && c < sizeof counts / sizeof counts[0]; c++) {
            crmt_alert a;
            memset(&a, 0, sizeof a);
            a.kind = (crmt_alert_kind)kind;
            a.months_left = counts[c];
            int want = spec_severity(kind, counts[c]);
            int got = severity_of(&a);
            CHECK(got == want, "%s months_left %d: %s, the SPEC says %s", SPEC_TABLE[i].kind, counts[c],
                  crmt_severity_code(got), crmt_severity_code(want));
        }
    }
    end();
}

static void test_errors(void) {
    begin("a NULL alert or out, an unknown kind, a count below -1: errors naming the field");
    crmt_severity s = CRMT_SEVERITY_MEDIUM;
    CHECK(crmt_alert_severity(NULL, &s) == CRMT_NULL_ARGUMENT, "NULL alert");
    CHECK(strcmp(last_field(), "alert") == 0 && s == CRMT_SEVERITY_MEDIUM, "field `%s`", last_field());
    crmt_alert a;
    memset(&a, 0, sizeof a);
    a.kind = CRMT_ALERT_POTENTIAL_VIP;
    a.months_left = -1;
    CHECK(crmt_alert_severity(&a, NULL) == CRMT_NULL_ARGUMENT, "NULL out");
    CHECK(strcmp(last_field(), "out") == 0, "field `%s`", last_field());
    int bad[] = {14, 15, -1, 2201, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a.kind = (crmt_alert_kind)bad[i];
        s = CRMT_SEVERITY_MEDIUM;
        CHECK(crmt_alert_severity(&a, &s) == CRMT_INVALID_ARGUMENT, "kind %d accepted", bad[i]);
        CHECK(strcmp(last_field(), "alert.kind") == 0, "kind %d: field `%s`", bad[i], last_field());
        CHECK(strstr(last_message(), "alert.kind") != NULL, "kind %d: message `%s`", bad[i], last_message());
        CHECK(s == CRMT_SEVERITY_MEDIUM, "kind %d: out written", bad[i]);
    }
    a.kind = CRMT_ALERT_EXIT_RISK;
    a.months_left = -2;
    CHECK(crmt_alert_severity(&a, &s) == CRMT_INVALID_ARGUMENT, "months_left -2 accepted");
    CHECK(strcmp(last_field(), "alert.months_left") == 0, "field `%s`", last_field());
    /* The code and name readers keep the details (as every static text reader does). */
    CHECK(strcmp(crmt_severity_code(CRMT_SEVERITY_LOW), "low") == 0 &&
              strcmp(crmt_severity_name_zh(CRMT_SEVERITY_HIGH), "高") == 0, "texts");
    CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT && strcmp(last_field(), "alert.months_left") == 0,
          "the text readers changed the details: field `%s`", last_field());
    /* A good call clears the details. */
    a.months_left = 1;
    CHECK(crmt_alert_severity(&a, &s) == CRMT_OK && s == CRMT_SEVERITY_HIGH, "exit_risk with 1 left");
    CHECK(crmt_last_error_code() == CRMT_OK, "details kept after a good call");
    end();
}

int main(void) {
    test_texts();
    test_portfolio_alerts();
    test_every_kind();
    test_errors();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
