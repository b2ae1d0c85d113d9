package crm.tiering;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The C ABI of {@code crm_tiering.h}, mapped with JNA. Package-private: use {@link RuleBook}.
 * {@code size_t} is mapped to {@code long} (64-bit platforms only, checked at load).
 */
interface CrmtLibrary extends Library {
    CrmtLibrary C = load();

    private static CrmtLibrary load() {
        if (Native.SIZE_T_SIZE != 8) {
            throw new UnsatisfiedLinkError("crm-tiering's Java binding needs a 64-bit platform");
        }
        CrmtLibrary lib = Native.load("crm_tiering_ffi", CrmtLibrary.class);
        if (lib.crmt_abi_version() != Tiering.ABI_VERSION) {
            throw new UnsatisfiedLinkError("libcrm_tiering_ffi has ABI version " + lib.crmt_abi_version()
                    + ", this binding needs " + Tiering.ABI_VERSION);
        }
        return lib;
    }

    Pointer crmt_version();
    int crmt_abi_version();
    Pointer crmt_result_name(int result);
    int crmt_last_error_code();
    int crmt_last_error_message(byte[] buf, long len, LongByReference written);
    int crmt_last_error_customer(byte[] buf, long len, LongByReference written);
    int crmt_last_error_field(byte[] buf, long len, LongByReference written);
    int crmt_last_error_month();
    int crmt_selftest_panic();

    int crmt_rulebook_from_toml(byte[] data, long len, PointerByReference out);
    int crmt_rulebook_from_json(byte[] data, long len, PointerByReference out);
    int crmt_rulebook_default(PointerByReference out);
    int crmt_rulebook_with_missing_months(Pointer book, int mode, PointerByReference out);
    void crmt_rulebook_free(Pointer book);

    Pointer crmt_buffer_data(Pointer buffer);
    long crmt_buffer_len(Pointer buffer);
    void crmt_buffer_free(Pointer buffer);

    int crmt_state_from_bytes(byte[] data, long len, PointerByReference out);
    int crmt_state_to_bytes(Pointer state, PointerByReference out);
    void crmt_state_free(Pointer state);

    int crmt_evaluate_total(Pointer book, Pointer customer, Pointer state, int month, byte[] aum, PointerByReference out);
    int crmt_evaluate_json(Pointer book, Pointer customer, Pointer state, int month, byte[] input, long len,
            PointerByReference out);
    long crmt_outcome_aum_fen(Pointer outcome);
    Pointer crmt_outcome_events(Pointer outcome, LongByReference count);
    Pointer crmt_outcome_alerts(Pointer outcome, LongByReference count);
    int crmt_outcome_to_json(Pointer outcome, PointerByReference out);
    int crmt_outcome_aum(Pointer outcome, byte[] buf, long len, LongByReference written);
    void crmt_outcome_free(Pointer outcome);

    Pointer crmt_event_kind_code(int kind);
    Pointer crmt_event_kind_name_zh(int kind);
    Pointer crmt_reason_code(int reason);
    Pointer crmt_alert_kind_code(int kind);
    Pointer crmt_alert_kind_name_zh(int kind);
    int crmt_alert_severity(Pointer alert, IntByReference out);
    Pointer crmt_severity_code(int severity);
    Pointer crmt_severity_name_zh(int severity);

    int crmt_states_new(long count, PointerByReference out);
    long crmt_states_len(Pointer states);
    int crmt_states_get_bytes(Pointer states, long index, PointerByReference out);
    void crmt_states_free(Pointer states);

    int crmt_evaluate_batch(Pointer book, int month, Pointer customers, Pointer aum, Pointer states, long threads,
            Pointer errorsOut, PointerByReference out);
    int crmt_batch_new(PointerByReference out);
    int crmt_evaluate_batch_into(Pointer book, int month, Pointer customers, Pointer aum, Pointer states, long threads,
            Pointer errorsOut, Pointer batch);
    int crmt_evaluate_batch_with_measures_into(Pointer book, int month, Pointer customers, Pointer aum,
            Pointer measures, Pointer states, long threads, Pointer errorsOut, Pointer batch);
    Pointer crmt_batch_events(Pointer batch, LongByReference count);
    Pointer crmt_batch_alerts(Pointer batch, LongByReference count);
    Pointer crmt_batch_aums_fen(Pointer batch, LongByReference count);
    long crmt_batch_error_count(Pointer batch);
    int crmt_batch_error_at(Pointer batch, long k, IntByReference customerIndex, IntByReference code);
    int crmt_batch_error_message(Pointer batch, int customerIndex, byte[] buf, long len, LongByReference written);
    int crmt_batch_error_field(Pointer batch, int customerIndex, byte[] buf, long len, LongByReference written);
    int crmt_batch_error_month(Pointer batch, int customerIndex);
    void crmt_batch_free(Pointer batch);

    int crmt_state_get_info(Pointer state, Pointer out);
    int crmt_last_error_record(LongByReference row, byte[] buf, long len, LongByReference written);
    int crmt_last_error_other_record(LongByReference row, byte[] buf, long len, LongByReference written);
    int crmt_rulebook_fingerprint(Pointer book, byte[] buf, long len, LongByReference written);

    int crmt_portfolio_new(PointerByReference out);
    int crmt_portfolio_from_text(byte[] data, long len, PointerByReference out);
    int crmt_portfolio_to_text(Pointer portfolio, Pointer book, PointerByReference out);
    long crmt_portfolio_len(Pointer portfolio);
    int crmt_portfolio_insert(Pointer portfolio, byte[] id, byte[] legalEntity, int kind, byte[] state, long stateLen,
            LongByReference index);
    int crmt_portfolio_find(Pointer portfolio, byte[] id, Pointer out);
    int crmt_portfolio_entry_at(Pointer portfolio, long index, Pointer out);
    int crmt_portfolio_customer_id(Pointer portfolio, long index, byte[] buf, long len, LongByReference written);
    int crmt_portfolio_legal_entity(Pointer portfolio, long index, byte[] buf, long len, LongByReference written);
    int crmt_portfolio_state_bytes(Pointer portfolio, long index, PointerByReference out);
    int crmt_portfolio_rule_book(Pointer portfolio, byte[] buf, long len, LongByReference written);
    int crmt_portfolio_to_json(Pointer portfolio, PointerByReference out);
    void crmt_portfolio_free(Pointer portfolio);

    int crmt_columns_resolve(Pointer book, int kind, Pointer headers, long count, PointerByReference out);
    void crmt_columns_free(Pointer columns);
    int crmt_extract_new(Pointer book, PointerByReference out);
    int crmt_extract_push_cells(Pointer extract, byte[] table, Pointer columns, long row, Pointer cells, long count);
    int crmt_extract_end_table(Pointer extract, byte[] table, Pointer columns);
    int crmt_extract_push_total_fen(Pointer extract, byte[] table, long row, byte[] id, byte[] legalEntity, int kind,
            int month, long aumFen);
    int crmt_extract_push_grant(Pointer extract, byte[] table, long row, byte[] id, int month, byte[] tier, int months);
    int crmt_extract_push_revoke(Pointer extract, byte[] table, long row, byte[] id, int month);
    void crmt_extract_free(Pointer extract);

    int crmt_portfolio_result_new(PointerByReference out);
    int crmt_evaluate_portfolio(Pointer book, Pointer portfolio, int first, int last, Pointer extract, Pointer options,
            Pointer result);
    boolean crmt_portfolio_result_refused(Pointer result);
    Pointer crmt_portfolio_result_events(Pointer result, LongByReference count);
    Pointer crmt_portfolio_result_alerts(Pointer result, LongByReference count);
    Pointer crmt_portfolio_result_evaluated(Pointer result, LongByReference count);
    Pointer crmt_portfolio_result_errors(Pointer result, LongByReference count);
    int crmt_portfolio_result_to_json(Pointer result, Pointer portfolio, PointerByReference out);
    void crmt_portfolio_result_free(Pointer result);

    int crmt_options_new(PointerByReference out);
    int crmt_options_set(Pointer options, byte[] key, byte[] value);
    void crmt_options_free(Pointer options);
    int crmt_evaluate_portfolio_with_options(Pointer book, Pointer portfolio, int first, int last, Pointer extract,
            Pointer options, Pointer result);

    int crmt_contribution_compute(byte[] book, int month, byte[] accountMonths, byte[] fees, byte[] costPools,
            byte[] activities, byte[] directCosts, byte[] assignments, PointerByReference out);
    void crmt_contribution_free(Pointer contribution);
    Pointer crmt_contribution_figure_name(long index);
    int crmt_contribution_month(Pointer contribution);
    long crmt_contribution_customer_count(Pointer contribution);
    long crmt_contribution_manager_count(Pointer contribution);
    int crmt_contribution_customer_id(Pointer contribution, long index, byte[] buf, long len, LongByReference written);
    int crmt_contribution_customer_figures(Pointer contribution, long index, Pointer out);
    int crmt_contribution_manager_id(Pointer contribution, long index, byte[] buf, long len, LongByReference written);
    int crmt_contribution_manager_figures(Pointer contribution, long index, LongByReference customers, Pointer out);
    int crmt_contribution_unassigned(Pointer contribution, Pointer out);
    int crmt_contribution_to_json(Pointer contribution, PointerByReference out);

    Pointer crmt_loan_class_code(int value);
    Pointer crmt_loan_class_name_zh(int value);
    Pointer crmt_loan_trend_code(int value);
    Pointer crmt_loan_upgrade_code(int value);
    Pointer crmt_loan_signal_kind_code(int kind);
    Pointer crmt_loan_signal_kind_name_zh(int kind);
    int crmt_loan_records_new(PointerByReference out);
    int crmt_loan_records_push(Pointer records, byte[] customerId, byte[] loanId, int month, long principalOverdueDays,
            long interestOverdueDays, byte[] bankClass, byte[] expectedLoss, boolean repaymentDue);
    void crmt_loan_records_free(Pointer records);
    int crmt_loan_states_from_jsonl(byte[] data, long len, PointerByReference out);
    void crmt_loan_states_free(Pointer states);
    int crmt_loans_evaluate(Pointer book, int month, Pointer records, Pointer states, PointerByReference out);
    int crmt_loan_result_month(Pointer result);
    Pointer crmt_loan_result_customers(Pointer result, LongByReference count);
    Pointer crmt_loan_result_loans(Pointer result, LongByReference count);
    Pointer crmt_loan_result_signals(Pointer result, LongByReference count);
    int crmt_loan_result_customer_id(Pointer result, long index, byte[] buf, long len, LongByReference written);
    int crmt_loan_result_loan_id(Pointer result, long index, byte[] buf, long len, LongByReference written);
    int crmt_loan_result_expected_loss(Pointer result, long index, byte[] buf, long len, LongByReference written);
    int crmt_loan_result_states_jsonl(Pointer result, PointerByReference out);
    void crmt_loan_result_free(Pointer result);
}
