/*
 * C tests of the ABI's guarantees against misuse ("no silent wrong tier", round two):
 *  - the thread's error details survive every _free and every accessor that keeps them;
 *  - a panic caught at the boundary prints nothing on the host's stderr: its message and
 *    location are in the error details (CRMT_PANIC);
 *  - handles are checked: a freed handle, a double free, a handle of another kind or a pointer
 *    the library never returned is refused (CRMT_INVALID_ARGUMENT naming the parameter), never
 *    read;
 *  - every count and length is checked before anything is reserved or read: SIZE_MAX and other
 *    impossible sizes are CRMT_INVALID_ARGUMENT naming the parameter.
 * Run plain, under AddressSanitizer and under valgrind by run-tests.sh: a use after free or a
 * double free in the library would be reported there.
 *
 * Usage: test_guarantees
 * Prints one line per failure and a closing "N passed, N failed".
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crm_tiering.h"

static int passed = 0;
static int failed = 0;
static int check_failed = 0;
static const char *current = "";

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (!(cond)) {                                                   \
            check_failed++;                                              \
            fprintf(stderr, "FAIL %s:%d [%s] %s: ", __FILE__, __LINE__, \
                    current, #cond);                                     \
            fprintf(stderr, __VA_ARGS__);                                \
            fputc('\n', stderr);                                         \
        }                                                                \
    } while (0)

static void begin(const char *name) {
    current = name;
    check_failed = 0;
}

static void end(void) {
    if (check_failed == 0) passed++;
    else failed++;
}

static const char *last_field(void) {
    static char buf[256];
    crmt_last_error_field(buf, sizeof buf, NULL);
    return buf;
}

static const char *last_message(void) {
    static char buf[2048];
    crmt_last_error_message(buf, sizeof buf, NULL);
    return buf;
}

/* The thread's error details, all of them, to compare before and after a call. */
typedef struct details {
    crmt_result code;
    char message[1024];
    char customer[128];
    char field[128];
    int32_t month;
    char table[128];
    uint64_t row;
    char other_table[128];
    uint64_t other_row;
} details;

static details snapshot(void) {
    details d;
    memset(&d, 0, sizeof d);
    d.code = crmt_last_error_code();
    crmt_last_error_message(d.message, sizeof d.message, NULL);
    crmt_last_error_customer(d.customer, sizeof d.customer, NULL);
    crmt_last_error_field(d.field, sizeof d.field, NULL);
    d.month = crmt_last_error_month();
    crmt_last_error_record(&d.row, d.table, sizeof d.table, NULL);
    crmt_last_error_other_record(&d.other_row, d.other_table, sizeof d.other_table, NULL);
    return d;
}

static int same_details(const details *a, const details *b) {
    return a->code == b->code && strcmp(a->message, b->message) == 0 && strcmp(a->customer, b->customer) == 0 &&
           strcmp(a->field, b->field) == 0 && a->month == b->month && strcmp(a->table, b->table) == 0 &&
           a->row == b->row && strcmp(a->other_table, b->other_table) == 0 && a->other_row == b->other_row;
}

/* One live handle of every kind, and a batch and a portfolio run with results in them. */
typedef struct handles {
    crmt_rulebook *book;
    crmt_state *state;
    crmt_states *states;
    crmt_outcome *outcome;
    crmt_batch *batch;
    crmt_buffer *buffer;
    crmt_portfolio *portfolio;
    crmt_columns *columns;
    crmt_extract *extract;
    crmt_portfolio_result *result;
} handles;

static handles make_handles(void) {
    handles h;
    memset(&h, 0, sizeof h);
    CHECK(crmt_rulebook_default(&h.book) == CRMT_OK, "book");
    CHECK(crmt_state_new(&h.state) == CRMT_OK, "state");
    crmt_customer c = {"6221000001", NULL, CRMT_KIND_PERSONAL};
    CHECK(crmt_evaluate_total_fen(h.book, &c, h.state, 202401, 60000000, &h.outcome) == CRMT_OK, "outcome");
    CHECK(crmt_state_to_bytes(h.state, &h.buffer) == CRMT_OK, "buffer");
    const char ids[] = "c0c1";
    size_t offsets[] = {0, 2, 4};
    int64_t fen[] = {25000000, 100};
    crmt_batch_customers customers = {2, ids, offsets, NULL, NULL, NULL};
    crmt_batch_aum aum = {0, NULL, fen};
    CHECK(crmt_states_new(2, &h.states) == CRMT_OK, "states");
    CHECK(crmt_evaluate_batch(h.book, 202401, &customers, &aum, h.states, 1, NULL, &h.batch) == CRMT_OK, "batch");
    CHECK(crmt_portfolio_new(&h.portfolio) == CRMT_OK, "portfolio");
    const char *header[] = {"customer_id", "aum"};
    CHECK(crmt_columns_resolve(h.book, CRMT_TABLE_AUM, header, 2, &h.columns) == CRMT_OK, "columns");
    CHECK(crmt_extract_new(h.book, &h.extract) == CRMT_OK, "extract");
    const char *row[] = {"6221000002", "300000.00"};
    CHECK(crmt_extract_push_cells(h.extract, "aum.csv", h.columns, 2, row, 2) == CRMT_OK, "row");
    CHECK(crmt_portfolio_result_new(&h.result) == CRMT_OK, "result");
    CHECK(crmt_evaluate_portfolio(h.book, h.portfolio, 202401, 0, h.extract, NULL, h.result) == CRMT_OK, "%s",
          last_message());
    return h;
}

/* A failure whose details name a record (the line of stored states), a customer-less field. */
static void fail_with_record(void) {
    const char *cut = "not stored states\n";
    crmt_portfolio *p = NULL;
    crmt_result rc = crmt_portfolio_from_text((const uint8_t *)cut, strlen(cut), &p);
    CHECK(rc == CRMT_STATE_ERROR && p == NULL, "setup failure: %s", crmt_result_name(rc));
}

/* A failure whose details name a customer, a month and a field. */
static void fail_with_customer(crmt_rulebook *book) {
    crmt_state *s = NULL;
    crmt_state_new(&s);
    crmt_customer c = {"6221000009", NULL, CRMT_KIND_PERSONAL};
    crmt_result rc = crmt_evaluate_total(book, &c, s, 202403, "12,5", NULL);
    CHECK(rc == CRMT_INVALID_AMOUNT, "setup failure: %s", crmt_result_name(rc));
    /* Freeing the state is part of what is checked: the details are the failure's. */
    crmt_state_free(s);
}

static void test_details_survive_frees_and_accessors(void) {
    begin("error details survive _free and the accessors that keep them");
    handles h = make_handles();
    for (int round = 0; round < 2; round++) {
        if (round == 0) fail_with_customer(h.book);
        else fail_with_record();
        details before = snapshot();
        CHECK(before.code != CRMT_OK && strlen(before.message) > 0, "a failure to keep");
        CHECK(round == 1 || (strcmp(before.customer, "6221000009") == 0 && before.month == 202403 &&
                             strcmp(before.field, "aum") == 0), "customer details: %s", before.message);
        CHECK(round == 0 || (strcmp(before.table, "states") == 0 && before.row == 1), "record details %s %llu",
              before.table, (unsigned long long)before.row);
        details now;
        size_t n = 0;
        char buf[64];
#define KEEPS(call)                                                                             \
    do {                                                                                        \
        call;                                                                                   \
        now = snapshot();                                                                       \
        CHECK(same_details(&before, &now), "`%s` changed the details to %s: %s", #call,        \
              crmt_result_name(now.code), now.message);                                         \
    } while (0)
        /* Reading the details twice keeps them. */
        KEEPS((void)0);
        KEEPS(crmt_error_message(CRMT_INPUT_ERROR, buf, sizeof buf, NULL));
        KEEPS(crmt_result_name(CRMT_PANIC));
        KEEPS(crmt_version());
        KEEPS(crmt_event_kind_code(CRMT_EVENT_ENTERED));
        KEEPS(crmt_alert_kind_name_zh(CRMT_ALERT_EXIT_RISK));
        /* The value accessors. */
        KEEPS(crmt_buffer_data(h.buffer));
        KEEPS(crmt_buffer_len(h.buffer));
        KEEPS(crmt_states_len(h.states));
        KEEPS(crmt_outcome_aum_fen(h.outcome));
        KEEPS(crmt_outcome_events(h.outcome, &n));
        KEEPS(crmt_outcome_alerts(h.outcome, &n));
        KEEPS(crmt_outcome_state(h.outcome));
        KEEPS(crmt_batch_events(h.batch, &n));
        KEEPS(crmt_batch_alerts(h.batch, &n));
        KEEPS(crmt_batch_aums_fen(h.batch, &n));
        KEEPS(crmt_batch_error_count(h.batch));
        KEEPS(crmt_batch_error_month(h.batch, 0));
        KEEPS(crmt_batch_error_message(h.batch, 1, buf, sizeof buf, NULL));
        KEEPS(crmt_batch_error_field(h.batch, 1, buf, sizeof buf, NULL));
        KEEPS(crmt_portfolio_len(h.portfolio));
        KEEPS(crmt_columns_width(h.columns));
        KEEPS(crmt_portfolio_result_refused(h.result));
        KEEPS(crmt_portfolio_result_months(h.result, &n));
        KEEPS(crmt_portfolio_result_events(h.result, &n));
        KEEPS(crmt_portfolio_result_alerts(h.result, &n));
        KEEPS(crmt_portfolio_result_evaluated(h.result, &n));
        KEEPS(crmt_portfolio_result_errors(h.result, &n));
        /* Every _free, of NULL and of a live handle. */
        KEEPS(crmt_rulebook_free(NULL));
        KEEPS(crmt_state_free(NULL));
        KEEPS(crmt_states_free(NULL));
        KEEPS(crmt_outcome_free(NULL));
        KEEPS(crmt_batch_free(NULL));
        KEEPS(crmt_buffer_free(NULL));
        KEEPS(crmt_portfolio_free(NULL));
        KEEPS(crmt_columns_free(NULL));
        KEEPS(crmt_extract_free(NULL));
        KEEPS(crmt_portfolio_result_free(NULL));
        if (round == 1) {
            KEEPS(crmt_buffer_free(h.buffer));
            KEEPS(crmt_outcome_free(h.outcome));
            KEEPS(crmt_state_free(h.state));
            KEEPS(crmt_states_free(h.states));
            KEEPS(crmt_batch_free(h.batch));
            KEEPS(crmt_portfolio_result_free(h.result));
            KEEPS(crmt_extract_free(h.extract));
            KEEPS(crmt_columns_free(h.columns));
            KEEPS(crmt_portfolio_free(h.portfolio));
            KEEPS(crmt_rulebook_free(h.book));
        }
#undef KEEPS
    }
    /* A call that succeeds clears them (the convention the accessors are the exception to). */
    crmt_rulebook *b = NULL;
    CHECK(crmt_rulebook_default(&b) == CRMT_OK && crmt_last_error_code() == CRMT_OK && strlen(last_message()) == 0,
          "cleared by a success");
    crmt_rulebook_free(b);
    end();
}

/* Runs `call` with the process's stderr (fd 2) sent to a temporary file; returns what was
 * written there (static buffer, NUL-terminated). */
static crmt_result captured_rc;
static const char *with_stderr_captured(crmt_result (*call)(void)) {
    static char out[4096];
    out[0] = 0;
    char path[] = "/tmp/crmt-stderr-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return "(cannot make a temporary file)";
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    captured_rc = call();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, out, sizeof out - 1);
    out[n > 0 ? n : 0] = 0;
    close(fd);
    return out;
}

static crmt_result panic_twice(void) {
    crmt_selftest_panic();
    return crmt_selftest_panic();
}

static void test_panic_is_silent(void) {
    begin("a caught panic prints nothing on stderr; its message and location are in the details");
    const char *printed = with_stderr_captured(panic_twice);
    CHECK(captured_rc == CRMT_PANIC, "rc %s", crmt_result_name(captured_rc));
    CHECK(strlen(printed) == 0, "printed on stderr: `%s`", printed);
    CHECK(crmt_last_error_code() == CRMT_PANIC, "code %s", crmt_result_name(crmt_last_error_code()));
    const char *m = last_message();
    CHECK(strstr(m, "self-test panic requested by the caller") != NULL, "message: %s", m);
    CHECK(strstr(m, "crm-tiering-ffi/src/error.rs:") != NULL, "location: %s", m);
    CHECK(strcmp(last_field(), "") == 0, "a panic names no field: %s", last_field());
    /* The library works afterwards, and a success clears the panic's details. */
    crmt_rulebook *b = NULL;
    CHECK(crmt_rulebook_default(&b) == CRMT_OK && crmt_last_error_code() == CRMT_OK, "usable after a panic");
    crmt_rulebook_free(b);
    end();
}

int main(void) {
    test_details_survive_frees_and_accessors();
    test_panic_is_silent();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
