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
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crm_tiering.h"

#include "harness.h"



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

static void free_handles(handles *h) {
    crmt_portfolio_result_free(h->result);
    crmt_extract_free(h->extract);
    crmt_columns_free(h->columns);
    crmt_portfolio_free(h->portfolio);
    crmt_batch_free(h->batch);
    crmt_states_free(h->states);
    crmt_buffer_free(h->buffer);
    crmt_outcome_free(h->outcome);
    crmt_state_free(h->state);
    crmt_rulebook_free(h->book);
    memset(h, 0, sizeof *h);
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
        KEEPS(crmt_severity_code(CRMT_SEVERITY_HIGH));
        KEEPS(crmt_severity_name_zh(CRMT_SEVERITY_LOW));
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

/* `call` is refused as a misuse of parameter `field`: CRMT_INVALID_ARGUMENT (or the fallback
 * of an accessor, and the details recorded), the field named, the message saying why. */
#define REFUSED(call, field_name, why)                                                           \
    do {                                                                                         \
        crmt_last_error_code(); /* nothing pending is needed: every refusal records details */ \
        call;                                                                                    \
        CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT, "`%s` gave %s: %s", #call,       \
              crmt_result_name(crmt_last_error_code()), last_message());                        \
        CHECK(strcmp(last_field(), field_name) == 0, "`%s` named field `%s`", #call, last_field()); \
        CHECK(strstr(last_message(), why) != NULL, "`%s` said: %s", #call, last_message());      \
    } while (0)

#define RC_REFUSED(call, field_name, why)                                                        \
    do {                                                                                         \
        crmt_result rc_ = call;                                                                  \
        CHECK(rc_ == CRMT_INVALID_ARGUMENT, "`%s` returned %s", #call, crmt_result_name(rc_));  \
        REFUSED((void)0, field_name, why);                                                       \
    } while (0)

static void test_freed_handles_are_refused_everywhere(void) {
    begin("every entry point refuses a freed handle without reading it");
    handles h = make_handles();
    /* One freed handle of each kind (made after the live ones: the allocator may give a freed
     * address to the next handle of its kind, which then is that handle). */
    handles dead = make_handles();
    crmt_rulebook_free(dead.book);
    crmt_state_free(dead.state);
    crmt_states_free(dead.states);
    crmt_outcome_free(dead.outcome);
    crmt_batch_free(dead.batch);
    crmt_buffer_free(dead.buffer);
    crmt_portfolio_free(dead.portfolio);
    crmt_columns_free(dead.columns);
    crmt_extract_free(dead.extract);
    crmt_portfolio_result_free(dead.result);
    CHECK(crmt_last_error_code() == CRMT_OK, "the frees succeeded: %s", last_message());
    const char *dead_book = "`book` is not a live crmt_rulebook handle";

    crmt_customer c = {"6221000003", NULL, CRMT_KIND_PERSONAL};
    crmt_outcome *o = NULL;
    crmt_buffer *b = NULL;
    crmt_state *s = NULL;
    crmt_rulebook *rb = NULL;
    crmt_state_info info;
    crmt_portfolio_entry entry;
    char buf[64];
    size_t n = 99, index = 0;
    uint32_t ci = 0;
    crmt_result code = CRMT_OK;
    crmt_component_amount comps[] = {{"time_deposit", "1.00"}};
    const char ids[] = "c0c1";
    size_t offsets[] = {0, 2, 4};
    int64_t fen[] = {25000000, 100};
    crmt_batch_customers customers = {2, ids, offsets, NULL, NULL, NULL};
    crmt_batch_aum aum = {0, NULL, fen};
    const char *header[] = {"customer_id", "aum"};
    const char *cells[] = {"6221000002", "1.00"};

    /* Rule books. */
    RC_REFUSED(crmt_rulebook_with_missing_months(dead.book, 0, &rb), "book", dead_book);
    CHECK(rb == NULL, "nothing made");
    RC_REFUSED(crmt_rulebook_to_json(dead.book, &b), "book", dead_book);
    RC_REFUSED(crmt_rulebook_fingerprint(dead.book, buf, sizeof buf, NULL), "book", dead_book);
    RC_REFUSED(crmt_evaluate_total_fen(dead.book, &c, h.state, 202402, 1, &o), "book", dead_book);
    RC_REFUSED(crmt_evaluate_total(dead.book, &c, h.state, 202402, "1.00", &o), "book", dead_book);
    RC_REFUSED(crmt_evaluate_averages(dead.book, &c, h.state, 202402, comps, 1, &o), "book", dead_book);
    const char *input = "{\"aum\": {\"total\": \"1\"}}";
    RC_REFUSED(crmt_evaluate_json(dead.book, &c, h.state, 202402, (const uint8_t *)input, strlen(input), &o), "book",
               dead_book);
    RC_REFUSED(crmt_evaluate_batch(dead.book, 202402, &customers, &aum, h.states, 1, NULL, NULL), "book", dead_book);
    RC_REFUSED(crmt_evaluate_batch_into(dead.book, 202402, &customers, &aum, h.states, 1, NULL, h.batch), "book",
               dead_book);
    RC_REFUSED(crmt_columns_resolve(dead.book, CRMT_TABLE_AUM, header, 2, NULL), "book", dead_book);
    RC_REFUSED(crmt_extract_new(dead.book, NULL), "book", dead_book);
    RC_REFUSED(crmt_portfolio_to_text(h.portfolio, dead.book, &b), "book", dead_book);
    RC_REFUSED(crmt_evaluate_portfolio(dead.book, h.portfolio, 202402, 0, h.extract, NULL, h.result), "book",
               dead_book);
    CHECK(o == NULL && b == NULL, "nothing made");

    /* States. */
    const char *dead_state = "`state` is not a live crmt_state handle";
    RC_REFUSED(crmt_evaluate_total_fen(h.book, &c, dead.state, 202402, 1, &o), "state", dead_state);
    RC_REFUSED(crmt_evaluate_total(h.book, &c, dead.state, 202402, "1.00", NULL), "state", dead_state);
    RC_REFUSED(crmt_evaluate_averages(h.book, &c, dead.state, 202402, comps, 1, NULL), "state", dead_state);
    RC_REFUSED(crmt_evaluate_json(h.book, &c, dead.state, 202402, (const uint8_t *)input, strlen(input), NULL), "state",
               dead_state);
    RC_REFUSED(crmt_state_to_bytes(dead.state, &b), "state", dead_state);
    RC_REFUSED(crmt_state_clone(dead.state, &s), "state", dead_state);
    RC_REFUSED(crmt_state_get_info(dead.state, &info), "state", dead_state);
    REFUSED(crmt_state_free(dead.state), "state", "`state` is not a live crmt_state handle (freed");
    CHECK(s == NULL && o == NULL && b == NULL, "nothing made");

    /* The batch's states and results. */
    const char *dead_states = "`states` is not a live crmt_states handle";
    RC_REFUSED(crmt_evaluate_batch(h.book, 202402, &customers, &aum, dead.states, 1, NULL, NULL), "states",
               dead_states);
    RC_REFUSED(crmt_states_get_bytes(dead.states, 0, &b), "states", dead_states);
    RC_REFUSED(crmt_states_get_info(dead.states, 0, &info), "states", dead_states);
    REFUSED(CHECK(crmt_states_len(dead.states) == 0, "len"), "states", dead_states);
    REFUSED(crmt_states_free(dead.states), "states", dead_states);
    const char *dead_batch = "`batch` is not a live crmt_batch handle";
    RC_REFUSED(crmt_evaluate_batch_into(h.book, 202402, &customers, &aum, h.states, 1, NULL, dead.batch), "batch",
               dead_batch);
    REFUSED(CHECK(crmt_batch_events(dead.batch, &n) == NULL && n == 0, "events"), "batch", dead_batch);
    n = 99;
    REFUSED(CHECK(crmt_batch_alerts(dead.batch, &n) == NULL && n == 0, "alerts"), "batch", dead_batch);
    n = 99;
    REFUSED(CHECK(crmt_batch_aums_fen(dead.batch, &n) == NULL && n == 0, "aums"), "batch", dead_batch);
    REFUSED(CHECK(crmt_batch_error_count(dead.batch) == 0, "count"), "batch", dead_batch);
    RC_REFUSED(crmt_batch_error_at(dead.batch, 0, &ci, &code), "batch", dead_batch);
    RC_REFUSED(crmt_batch_error_message(dead.batch, 1, buf, sizeof buf, NULL), "batch", dead_batch);
    RC_REFUSED(crmt_batch_error_field(dead.batch, 1, buf, sizeof buf, NULL), "batch", dead_batch);
    REFUSED(CHECK(crmt_batch_error_month(dead.batch, 1) == 0, "month"), "batch", dead_batch);
    REFUSED(crmt_batch_free(dead.batch), "batch", dead_batch);

    /* Outcomes and buffers. */
    const char *dead_outcome = "`outcome` is not a live crmt_outcome handle";
    REFUSED(CHECK(crmt_outcome_aum_fen(dead.outcome) == CRMT_NO_AMOUNT, "aum"), "outcome", dead_outcome);
    RC_REFUSED(crmt_outcome_aum(dead.outcome, buf, sizeof buf, NULL), "outcome", dead_outcome);
    n = 99;
    REFUSED(CHECK(crmt_outcome_events(dead.outcome, &n) == NULL && n == 0, "events"), "outcome", dead_outcome);
    n = 99;
    REFUSED(CHECK(crmt_outcome_alerts(dead.outcome, &n) == NULL && n == 0, "alerts"), "outcome", dead_outcome);
    REFUSED(CHECK(crmt_outcome_state(dead.outcome) == NULL, "state"), "outcome", dead_outcome);
    RC_REFUSED(crmt_outcome_to_json(dead.outcome, &b), "outcome", dead_outcome);
    REFUSED(crmt_outcome_free(dead.outcome), "outcome", dead_outcome);
    const char *dead_buffer = "`buffer` is not a live crmt_buffer handle";
    REFUSED(CHECK(crmt_buffer_data(dead.buffer) == NULL, "data"), "buffer", dead_buffer);
    REFUSED(CHECK(crmt_buffer_len(dead.buffer) == 0, "len"), "buffer", dead_buffer);
    REFUSED(crmt_buffer_free(dead.buffer), "buffer", dead_buffer);

    /* Portfolios, columns, extracts, results. */
    const char *dead_portfolio = "`portfolio` is not a live crmt_portfolio handle";
    RC_REFUSED(crmt_portfolio_to_text(dead.portfolio, h.book, &b), "portfolio", dead_portfolio);
    REFUSED(CHECK(crmt_portfolio_len(dead.portfolio) == 0, "len"), "portfolio", dead_portfolio);
    RC_REFUSED(crmt_portfolio_insert(dead.portfolio, "6221000004", NULL, CRMT_KIND_PERSONAL, NULL, 0, &index),
               "portfolio", dead_portfolio);
    RC_REFUSED(crmt_portfolio_find(dead.portfolio, "6221000002", &entry), "portfolio", dead_portfolio);
    RC_REFUSED(crmt_portfolio_entry_at(dead.portfolio, 0, &entry), "portfolio", dead_portfolio);
    RC_REFUSED(crmt_portfolio_customer_id(dead.portfolio, 0, buf, sizeof buf, NULL), "portfolio", dead_portfolio);
    RC_REFUSED(crmt_portfolio_legal_entity(dead.portfolio, 0, buf, sizeof buf, NULL), "portfolio", dead_portfolio);
    RC_REFUSED(crmt_portfolio_state_bytes(dead.portfolio, 0, &b), "portfolio", dead_portfolio);
    RC_REFUSED(crmt_portfolio_rule_book(dead.portfolio, buf, sizeof buf, NULL), "portfolio", dead_portfolio);
    RC_REFUSED(crmt_evaluate_portfolio(h.book, dead.portfolio, 202402, 0, h.extract, NULL, h.result), "portfolio",
               dead_portfolio);
    RC_REFUSED(crmt_portfolio_result_to_json(h.result, dead.portfolio, &b), "portfolio", dead_portfolio);
    RC_REFUSED(crmt_portfolio_to_json(dead.portfolio, &b), "portfolio", dead_portfolio);
    REFUSED(crmt_portfolio_free(dead.portfolio), "portfolio", dead_portfolio);
    const char *dead_columns = "`columns` is not a live crmt_columns handle";
    RC_REFUSED(crmt_extract_push_cells(h.extract, "aum.csv", dead.columns, 3, cells, 2), "columns", dead_columns);
    REFUSED(CHECK(crmt_columns_width(dead.columns) == 0, "width"), "columns", dead_columns);
    REFUSED(crmt_columns_free(dead.columns), "columns", dead_columns);
    const char *dead_extract = "`extract` is not a live crmt_extract handle";
    RC_REFUSED(crmt_extract_push_cells(dead.extract, "aum.csv", h.columns, 3, cells, 2), "extract", dead_extract);
    RC_REFUSED(crmt_extract_push_total_fen(dead.extract, "aum", 3, "6221000002", NULL, CRMT_KIND_KEEP, 0, 1),
               "extract", dead_extract);
    RC_REFUSED(crmt_extract_push_grant(dead.extract, "d", 3, "6221000002", 202402, NULL, 0), "extract", dead_extract);
    RC_REFUSED(crmt_extract_push_revoke(dead.extract, "d", 3, "6221000002", 202402), "extract", dead_extract);
    RC_REFUSED(crmt_extract_push_totals_fen(dead.extract, "aum", 0, 2, ids, offsets, NULL, NULL, NULL, NULL, fen),
               "extract", dead_extract);
    RC_REFUSED(crmt_evaluate_portfolio(h.book, h.portfolio, 202402, 0, dead.extract, NULL, h.result), "extract",
               dead_extract);
    REFUSED(crmt_extract_free(dead.extract), "extract", dead_extract);
    const char *dead_result = "`result` is not a live crmt_portfolio_result handle";
    RC_REFUSED(crmt_evaluate_portfolio(h.book, h.portfolio, 202402, 0, h.extract, NULL, dead.result), "result",
               dead_result);
    REFUSED(CHECK(!crmt_portfolio_result_refused(dead.result), "refused"), "result", dead_result);
    n = 99;
    REFUSED(CHECK(crmt_portfolio_result_months(dead.result, &n) == NULL && n == 0, "months"), "result", dead_result);
    REFUSED(CHECK(crmt_portfolio_result_events(dead.result, &n) == NULL, "events"), "result", dead_result);
    REFUSED(CHECK(crmt_portfolio_result_alerts(dead.result, &n) == NULL, "alerts"), "result", dead_result);
    REFUSED(CHECK(crmt_portfolio_result_evaluated(dead.result, &n) == NULL, "evaluated"), "result", dead_result);
    REFUSED(CHECK(crmt_portfolio_result_errors(dead.result, &n) == NULL, "errors"), "result", dead_result);
    RC_REFUSED(crmt_portfolio_result_to_json(dead.result, h.portfolio, &b), "result", dead_result);
    REFUSED(crmt_portfolio_result_free(dead.result), "result", dead_result);
    CHECK(b == NULL && o == NULL, "nothing made");

    /* The live handles were never touched by any of it. */
    crmt_state_info before;
    CHECK(crmt_state_get_info(h.state, &before) == CRMT_OK && before.last_month == 202401, "state kept");
    CHECK(crmt_portfolio_len(h.portfolio) == 1 && crmt_states_len(h.states) == 2, "portfolio and states kept");
    free_handles(&h);
    end();
}

static void test_double_free_and_other_kinds(void) {
    begin("a double free, a handle of another kind, a foreign pointer: refused, nothing freed");
    handles h = make_handles();
    crmt_state *copy = NULL;
    CHECK(crmt_state_clone(h.state, &copy) == CRMT_OK, "clone");
    crmt_state_free(copy);
    CHECK(crmt_last_error_code() == CRMT_OK, "first free");
    crmt_state_free(copy);
    CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT && strcmp(last_field(), "state") == 0, "double free: %s",
          last_message());
    CHECK(strstr(last_message(), "`state` is not a live crmt_state handle (freed, or another kind of handle)") != NULL,
          "%s", last_message());

    /* Another kind of handle, as every parameter and every _free: named as what it is. */
    crmt_portfolio *not_a_portfolio = (crmt_portfolio *)(void *)h.state;
    CHECK(crmt_portfolio_len(not_a_portfolio) == 0, "len of a state");
    CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT && strcmp(last_field(), "portfolio") == 0, "kind");
    CHECK(strstr(last_message(), "`portfolio` is a live crmt_state handle, not a crmt_portfolio") != NULL, "%s",
          last_message());
    crmt_portfolio_free(not_a_portfolio);
    CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT, "free of another kind refused");
    crmt_buffer_free((crmt_buffer *)(void *)h.book);
    crmt_rulebook_free((crmt_rulebook *)(void *)h.extract);
    crmt_extract_free((crmt_extract *)(void *)h.columns);
    crmt_states_free((crmt_states *)(void *)h.batch);
    crmt_outcome_free((crmt_outcome *)(void *)h.result);
    crmt_state_info info;
    crmt_result rc = crmt_state_get_info((crmt_state *)(void *)h.states, &info);
    CHECK(rc == CRMT_INVALID_ARGUMENT && strstr(last_message(), "crmt_states handle, not a crmt_state") != NULL, "%s",
          last_message());
    crmt_customer c = {"6221000005", NULL, CRMT_KIND_PERSONAL};
    rc = crmt_evaluate_total_fen((crmt_rulebook *)(void *)h.portfolio, &c, h.state, 202402, 1, NULL);
    CHECK(rc == CRMT_INVALID_ARGUMENT && strcmp(last_field(), "book") == 0, "portfolio as a book: %s",
          last_message());

    /* Pointers the library never returned: freed C memory, the stack, a static. Never read
     * (AddressSanitizer and valgrind would report the read of the freed block). */
    void *block = malloc(256);
    uintptr_t freed = (uintptr_t)block; /* kept as a number: C may not use a freed pointer */
    free(block);
    static char not_a_handle[256];
    int on_stack = 0;
    void *foreign[] = {(void *)freed, not_a_handle, &on_stack, (void *)(uintptr_t)0x10, (void *)(uintptr_t)-16};
    for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++) {
        CHECK(crmt_buffer_len((crmt_buffer *)foreign[i]) == 0, "len");
        CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT, "foreign %zu", i);
        crmt_buffer_free((crmt_buffer *)foreign[i]);
        crmt_rulebook_free((crmt_rulebook *)foreign[i]);
        rc = crmt_state_get_info((crmt_state *)foreign[i], &info);
        CHECK(rc == CRMT_INVALID_ARGUMENT && strstr(last_message(), "not a live crmt_state handle") != NULL, "%s",
              last_message());
        rc = crmt_evaluate_total_fen(h.book, &c, (crmt_state *)foreign[i], 202402, 1, NULL);
        CHECK(rc == CRMT_INVALID_ARGUMENT && strcmp(last_field(), "state") == 0, "foreign state %zu", i);
    }

    /* Every handle still works after all of it. */
    CHECK(crmt_state_get_info(h.state, &info) == CRMT_OK && info.last_month == 202401, "state");
    CHECK(crmt_evaluate_total_fen(h.book, &c, h.state, 202402, 30000000, NULL) == CRMT_OK, "%s", last_message());
    CHECK(crmt_portfolio_len(h.portfolio) == 1 && crmt_columns_width(h.columns) == 2, "portfolio, columns");
    CHECK(crmt_buffer_len(h.buffer) > 0 && crmt_batch_error_count(h.batch) == 0, "buffer, batch");
    CHECK(crmt_last_error_code() == CRMT_OK, "%s", last_message());
    free_handles(&h);
    end();
}

static void test_lent_state(void) {
    begin("the state an outcome lends: read like a state, never changed or freed on its own");
    handles h = make_handles();
    const crmt_state *lent = crmt_outcome_state(h.outcome);
    CHECK(lent != NULL, "lent");
    crmt_state_info info;
    CHECK(crmt_state_get_info(lent, &info) == CRMT_OK && info.last_month == 202401, "read: %s", last_message());
    crmt_state *copy = NULL;
    CHECK(crmt_state_clone(lent, &copy) == CRMT_OK, "cloned");
    crmt_buffer *b = NULL;
    CHECK(crmt_state_to_bytes(lent, &b) == CRMT_OK, "to bytes");
    crmt_buffer_free(b);
    crmt_customer c = {"6221000001", NULL, CRMT_KIND_PERSONAL};
    crmt_result rc = crmt_evaluate_total_fen(h.book, &c, (crmt_state *)lent, 202402, 1, NULL);
    CHECK(rc == CRMT_INVALID_ARGUMENT && strcmp(last_field(), "state") == 0, "updated: %s", crmt_result_name(rc));
    CHECK(strstr(last_message(), "the crmt_state a crmt_outcome lends (read-only, freed with it)") != NULL, "%s",
          last_message());
    crmt_state_free((crmt_state *)lent);
    CHECK(crmt_last_error_code() == CRMT_INVALID_ARGUMENT && strstr(last_message(), "lends") != NULL, "freed: %s",
          last_message());
    CHECK(crmt_state_get_info(lent, &info) == CRMT_OK, "still lent");
    crmt_outcome_free(h.outcome);
    h.outcome = NULL;
    rc = crmt_state_get_info(lent, &info);
    CHECK(rc == CRMT_INVALID_ARGUMENT && strstr(last_message(), "not a live crmt_state handle") != NULL,
          "after its outcome: %s", last_message());
    CHECK(crmt_evaluate_total_fen(h.book, &c, copy, 202402, 1, NULL) == CRMT_OK, "the copy is the caller's");
    crmt_state_free(copy);
    free_handles(&h);
    end();
}

/* Threads share a rule book while each makes, uses and frees its own handles: the registry
 * never refuses a live handle nor accepts a freed one, whatever the others do at the time. */
typedef struct worker {
    crmt_rulebook *book;
    int id;
    int failures;
} worker;

static char never_a_handle[64];

static void *churn(void *arg) {
    worker *w = arg;
    char id[32];
    for (int i = 0; i < 400; i++) {
        snprintf(id, sizeof id, "t%d-%d", w->id, i);
        crmt_customer c = {id, NULL, CRMT_KIND_PERSONAL};
        crmt_state *s = NULL;
        crmt_outcome *o = NULL;
        crmt_state_info info;
        if (crmt_state_new(&s) != CRMT_OK) w->failures++;
        if (crmt_evaluate_total_fen(w->book, &c, s, 202401, 30000000 + i, &o) != CRMT_OK) w->failures++;
        if (crmt_state_get_info(crmt_outcome_state(o), &info) != CRMT_OK || info.last_month != 202401) w->failures++;
        /* A pointer that is no handle is refused on every thread (a freed one could be a new
         * handle of another thread by now: the documented limit). */
        if (crmt_state_get_info((crmt_state *)(void *)never_a_handle, &info) != CRMT_INVALID_ARGUMENT) w->failures++;
        crmt_outcome_free(o);
        crmt_state_free(s);
        if (crmt_last_error_code() != CRMT_INVALID_ARGUMENT) w->failures++; /* the frees kept them */
    }
    return NULL;
}

static void test_threads(void) {
    begin("threads share a rule book while others make and free handles");
    crmt_rulebook *book = NULL;
    CHECK(crmt_rulebook_default(&book) == CRMT_OK, "book");
    enum { N = 4 };
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){book, i, 0};
        pthread_create(&t[i], NULL, churn, &w[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].failures == 0, "thread %d: %d failures", i, w[i].failures);
    }
    crmt_rulebook_free(book);
    end();
}

/* Counts and lengths no array can have: every one of them is refused before anything is read,
 * reserved or written, naming the count or length parameter. */
static const size_t huge[] = {
    SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2 + 1, SIZE_MAX / 2, SIZE_MAX / 4, SIZE_MAX / 8,
#if SIZE_MAX > 0xFFFFFFFFu
    (size_t)1 << 58, /* more bytes than any 64-bit address space */
#endif
};
#define HUGE_COUNT (sizeof huge / sizeof *huge)

static void test_impossible_counts(void) {
    begin("SIZE_MAX and other impossible counts and lengths are argument errors naming the parameter");
    handles h = make_handles();
    const char *toml = "name = \"x\"";
    const char *json = "{\"aum\": {\"total\": \"1\"}}";
    char buf[64];
    size_t written = 0, index = 7;
    crmt_customer c = {"6221000006", NULL, CRMT_KIND_PERSONAL};
    crmt_component_amount comps[] = {{"time_deposit", "1.00"}};
    const char *header[] = {"customer_id", "aum"};
    const char *cells[] = {"6221000002", "1.00"};
    const char ids[] = "c0c1";
    size_t offsets[] = {0, 2, 4};
    int64_t fen[] = {25000000, 100, 1, 2};
    const char *codes[] = {"time_deposit"};
    crmt_result errors[2];
    for (size_t i = 0; i < HUGE_COUNT; i++) {
        size_t n = huge[i];
        crmt_rulebook *rb = NULL;
        crmt_state *s = NULL;
        crmt_states *ss = NULL;
        crmt_outcome *o = NULL;
        crmt_portfolio *p = NULL;
        crmt_columns *cols = NULL;
        RC_REFUSED(crmt_rulebook_from_toml((const uint8_t *)toml, n, &rb), "len", "`len` is");
        RC_REFUSED(crmt_rulebook_from_json((const uint8_t *)toml, n, &rb), "len", "more than any array can hold");
        RC_REFUSED(crmt_state_from_bytes((const uint8_t *)json, n, &s), "len", "`len` is");
        RC_REFUSED(crmt_evaluate_averages(h.book, &c, h.state, 202402, comps, n, &o), "count", "`count` is");
        RC_REFUSED(crmt_evaluate_json(h.book, &c, h.state, 202402, (const uint8_t *)json, n, &o), "len", "`len` is");
        RC_REFUSED(crmt_outcome_aum(h.outcome, buf, n, &written), "len", "`len` is");
        RC_REFUSED(crmt_portfolio_from_text((const uint8_t *)json, n, &p), "len", "`len` is");
        RC_REFUSED(crmt_portfolio_insert(h.portfolio, "6221000007", NULL, CRMT_KIND_PERSONAL, (const uint8_t *)json, n,
                                         &index),
                   "state_len", "`state_len` is");
        RC_REFUSED(crmt_portfolio_customer_id(h.portfolio, 0, buf, n, NULL), "len", "`len` is");
        RC_REFUSED(crmt_portfolio_legal_entity(h.portfolio, 0, buf, n, NULL), "len", "`len` is");
        RC_REFUSED(crmt_portfolio_rule_book(h.portfolio, buf, n, NULL), "len", "`len` is");
        RC_REFUSED(crmt_rulebook_fingerprint(h.book, buf, n, NULL), "len", "`len` is");
        RC_REFUSED(crmt_columns_resolve(h.book, CRMT_TABLE_AUM, header, n, &cols), "count", "`count` is");
        RC_REFUSED(crmt_extract_push_cells(h.extract, "aum.csv", h.columns, 9, cells, n), "count", "`count` is");
        RC_REFUSED(crmt_extract_push_totals_fen(h.extract, "aum", 0, n, ids, offsets, NULL, NULL, NULL, NULL, fen),
                   "count", "`count` is");
        RC_REFUSED(crmt_batch_error_message(h.batch, 0, buf, n, NULL), "len", "`len` is");
        RC_REFUSED(crmt_batch_error_field(h.batch, 0, buf, n, NULL), "len", "`len` is");
        RC_REFUSED(crmt_states_new(n, &ss), "count", "`count` is");
        /* The batch: the count of customers, of components, the last offset. */
        crmt_batch_customers many = {n, ids, offsets, NULL, NULL, NULL};
        crmt_batch_aum totals = {0, NULL, fen};
        RC_REFUSED(crmt_evaluate_batch(h.book, 202402, &many, &totals, h.states, 1, errors, NULL), "customers.count",
                   "`customers.count` is");
        RC_REFUSED(crmt_evaluate_batch_into(h.book, 202402, &many, &totals, h.states, 1, errors, h.batch),
                   "customers.count", "`customers.count` is");
        crmt_batch_customers two = {2, ids, offsets, NULL, NULL, NULL};
        crmt_batch_aum components = {n, codes, fen};
        RC_REFUSED(crmt_evaluate_batch(h.book, 202402, &two, &components, h.states, 1, errors, NULL),
                   "aum.component_count", "`aum.component_count` is");
        size_t far[] = {0, 2, n};
        crmt_batch_customers far_ids = {2, ids, far, NULL, NULL, NULL};
        RC_REFUSED(crmt_evaluate_batch(h.book, 202402, &far_ids, &totals, h.states, 1, errors, NULL),
                   "customers.id_offsets", "`customers.id_offsets` is");
        RC_REFUSED(crmt_extract_push_totals_fen(h.extract, "aum", 0, 2, ids, far, NULL, NULL, NULL, NULL, fen),
                   "id_offsets", "`id_offsets` is");
        RC_REFUSED(crmt_extract_push_totals_fen(h.extract, "aum", 0, 2, ids, offsets, ids, far, NULL, NULL, fen),
                   "legal_entity_offsets", "`legal_entity_offsets` is");
        CHECK(rb == NULL && s == NULL && ss == NULL && o == NULL && p == NULL && cols == NULL, "nothing made");
        CHECK(index == 7, "nothing written");

        /* Indexes and rows past the end are CRMT_INDEX_OUT_OF_RANGE, as any index past the end. */
        crmt_state_info info;
        crmt_portfolio_entry entry;
        crmt_buffer *b = NULL;
        uint32_t ci;
        crmt_result code;
        CHECK(crmt_states_get_info(h.states, n, &info) == CRMT_INDEX_OUT_OF_RANGE, "states info %zu", n);
        CHECK(crmt_states_get_bytes(h.states, n, &b) == CRMT_INDEX_OUT_OF_RANGE && b == NULL, "states bytes");
        CHECK(crmt_portfolio_entry_at(h.portfolio, n, &entry) == CRMT_INDEX_OUT_OF_RANGE, "entry");
        CHECK(crmt_portfolio_customer_id(h.portfolio, n, buf, sizeof buf, NULL) == CRMT_INDEX_OUT_OF_RANGE, "id");
        CHECK(crmt_portfolio_legal_entity(h.portfolio, n, buf, sizeof buf, NULL) == CRMT_INDEX_OUT_OF_RANGE, "entity");
        CHECK(crmt_portfolio_state_bytes(h.portfolio, n, &b) == CRMT_INDEX_OUT_OF_RANGE && b == NULL, "state");
        CHECK(crmt_batch_error_at(h.batch, n, &ci, &code) == CRMT_INDEX_OUT_OF_RANGE, "batch error");
        CHECK(strcmp(last_field(), "k") == 0, "field %s", last_field());
        /* As many threads as asked are capped: not an error. */
        CHECK(crmt_evaluate_batch_into(h.book, 202402, &two, &totals, h.states, n, errors, h.batch) == CRMT_OK, "%s",
              last_message());
        crmt_states *fresh = NULL;
        CHECK(crmt_states_new(2, &fresh) == CRMT_OK, "states");
        CHECK(crmt_evaluate_batch(h.book, 202401, &two, &totals, fresh, n, errors, NULL) == CRMT_OK, "%s",
              last_message());
        crmt_states_free(fresh);
    }

    /* The readers of the details refuse an impossible length and keep the details. */
    fail_with_customer(h.book);
    details before = snapshot();
    for (size_t i = 0; i < HUGE_COUNT; i++) {
        uint64_t row = 5;
        written = 9;
        CHECK(crmt_last_error_message(buf, huge[i], &written) == CRMT_INVALID_ARGUMENT && written == 9, "message");
        CHECK(crmt_last_error_customer(buf, huge[i], NULL) == CRMT_INVALID_ARGUMENT, "customer");
        CHECK(crmt_last_error_field(buf, huge[i], NULL) == CRMT_INVALID_ARGUMENT, "field");
        CHECK(crmt_last_error_record(&row, buf, huge[i], NULL) == CRMT_INVALID_ARGUMENT && row == 5, "record");
        CHECK(crmt_last_error_other_record(&row, buf, huge[i], NULL) == CRMT_INVALID_ARGUMENT, "other record");
        CHECK(crmt_error_message(CRMT_PANIC, buf, huge[i], NULL) == CRMT_INVALID_ARGUMENT, "description");
    }
    details after = snapshot();
    CHECK(same_details(&before, &after), "details changed: %s", after.message);

    /* A count an array could have but memory cannot hold: the reservation fails, an error, never
     * an abort (AddressSanitizer runs this with allocator_may_return_null=1). */
#if SIZE_MAX > 0xFFFFFFFFu
    crmt_states *big = NULL;
    RC_REFUSED(crmt_states_new((size_t)1 << 50, &big), "count", "`count` is");
    CHECK(big == NULL, "nothing made");
#endif
    /* Every handle still works. */
    crmt_state_info info;
    CHECK(crmt_state_get_info(h.state, &info) == CRMT_OK && info.last_month == 202401, "state");
    CHECK(crmt_portfolio_len(h.portfolio) == 1, "portfolio unchanged: %zu", crmt_portfolio_len(h.portfolio));
    free_handles(&h);
    end();
}

int main(void) {
    test_details_survive_frees_and_accessors();
    test_panic_is_silent();
    test_freed_handles_are_refused_everywhere();
    test_double_free_and_other_kinds();
    test_lent_state();
    test_threads();
    test_impossible_counts();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
