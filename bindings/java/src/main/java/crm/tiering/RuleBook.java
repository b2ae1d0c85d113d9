package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.lang.ref.Reference;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A validated rule book: the entry point of the binding.
 *
 * <p><b>Threads.</b> The native rule book is immutable: evaluations (and every call that only
 * reads the rule book) run concurrently from any number of threads, each holding the rule book in
 * shared mode. {@link #close()} waits for the calls in progress, then frees the native rule book;
 * calls after it throw {@link IllegalStateException}; closing again, from any thread, does
 * nothing. A call that also uses a {@link PortfolioStates}, an {@link Extract}, a
 * {@link PortfolioRun} or a {@link BatchStates} locks each of them for the call (those are used by
 * one call at a time: calls from other threads wait), always in the same order (rule book, states,
 * extract, run, batch states), so no two calls can wait for each other.
 *
 * <p><b>Checks before the native call.</b> Months outside 0001-01..9999-11 are refused before
 * {@code year * 100 + month} is computed (no {@code int} overflow can turn a month into another);
 * the library refuses months before 1900-01 with the same {@link TieringException.Argument}
 * ({@code CRMT_INVALID_MONTH}, field {@code month}). Strings that become C strings (ids, legal
 * entities, component codes) holding a NUL are refused with {@link IllegalArgumentException}, as
 * are lengths that do not match and negative thread counts.
 *
 * <pre>{@code
 * try (RuleBook rules = RuleBook.defaults()) {
 *     MonthResult jan = rules.evaluate(Customer.personal("6221000001"), CustomerState.NEW,
 *             YearMonth.of(2024, 1), new BigDecimal("250000"));
 *     store(jan.state().toBytes());
 * }
 * }</pre>
 */
public final class RuleBook implements AutoCloseable {
    private final NativeHandle handle;

    private RuleBook(Pointer handle) {
        this.handle = new NativeHandle("the rule book", "the rule book is closed", NativeHandle.RULE_BOOK, true,
                handle, CrmtLibrary.C::crmt_rulebook_free);
    }

    private static RuleBook load(int rc, PointerByReference out) {
        Tiering.check(rc);
        return new RuleBook(out.getValue());
    }

    /**
     * Loads a rule book from TOML text.
     *
     * @throws TieringException.Rules naming the field (and line) that is wrong
     */
    public static RuleBook fromToml(String toml) {
        byte[] b = Tiering.utf8(toml, "toml");
        PointerByReference out = new PointerByReference();
        return load(CrmtLibrary.C.crmt_rulebook_from_toml(b, b.length, out), out);
    }

    /**
     * Loads a rule book from JSON text.
     *
     * @throws TieringException.Rules naming the field that is wrong
     */
    public static RuleBook fromJson(String json) {
        byte[] b = Tiering.utf8(json, "json");
        PointerByReference out = new PointerByReference();
        return load(CrmtLibrary.C.crmt_rulebook_from_json(b, b.length, out), out);
    }

    /** The default rule book (金卡 200000, 白金卡 500000, 钻石卡 1000000, 私行级 3000000). */
    public static RuleBook defaults() {
        PointerByReference out = new PointerByReference();
        return load(CrmtLibrary.C.crmt_rulebook_default(out), out);
    }

    /** A new rule book with the same rules, evaluating skipped months with zero AUM instead of failing. */
    public RuleBook withMissingMonthsAsZero() {
        PointerByReference out = new PointerByReference();
        Pointer h = handle.enter();
        try {
            return load(CrmtLibrary.C.crmt_rulebook_with_missing_months(h, 1, out), out);
        } finally {
            handle.exit();
        }
    }

    /** The lock-guarded native handle (see the class comment). */
    NativeHandle nativeHandle() {
        return handle;
    }

    interface Call {
        int run(Pointer book, Pointer customer, Pointer state, int month, PointerByReference out);
    }

    private MonthResult evaluate(Customer customer, CustomerState prior, YearMonth month, Call call) {
        Objects.requireNonNull(customer, "customer");
        Objects.requireNonNull(prior, "prior");
        int yyyymm = Tiering.yyyymm(month, "month");
        Memory[] cust = NativeArgs.customer(customer);
        Pointer book = handle.enter();
        try {
            return evaluate(book, cust, prior, month, yyyymm, call);
        } finally {
            handle.exit();
            Reference.reachabilityFence(cust);
        }
    }

    private static MonthResult evaluate(Pointer book, Memory[] cust, CustomerState prior, YearMonth month, int yyyymm,
            Call call) {
        CrmtLibrary c = CrmtLibrary.C;
        PointerByReference stateRef = new PointerByReference();
        byte[] raw = prior.raw();
        Tiering.check(c.crmt_state_from_bytes(raw, raw.length, stateRef));
        Pointer state = stateRef.getValue();
        PointerByReference outRef = new PointerByReference();
        try {
            Tiering.check(call.run(book, cust[0], state, yyyymm, outRef));
            Pointer out = outRef.getValue();
            try {
                LongByReference n = new LongByReference();
                List<Event> events = Structs.events(c.crmt_outcome_events(out, n), n.getValue());
                List<Alert> alerts = Structs.alerts(c.crmt_outcome_alerts(out, n), n.getValue());
                String aum = Tiering.text((buf, len, w) -> c.crmt_outcome_aum(out, buf, len, w));
                PointerByReference json = new PointerByReference();
                Tiering.check(c.crmt_outcome_to_json(out, json));
                String text = new String(Tiering.takeBuffer(json), StandardCharsets.UTF_8);
                PointerByReference bytes = new PointerByReference();
                Tiering.check(c.crmt_state_to_bytes(state, bytes));
                return new MonthResult(month, new BigDecimal(aum), CustomerState.own(Tiering.takeBuffer(bytes)),
                        events, alerts, text);
            } finally {
                c.crmt_outcome_free(out);
            }
        } finally {
            c.crmt_state_free(state);
        }
    }

    /**
     * Evaluates one customer's month from the month's AUM.
     *
     * @param customer the customer
     * @param prior the state stored after the previous month ({@link CustomerState#NEW} for a new customer)
     * @param month the month; it must follow the prior state's last month
     * @param aum the month's daily-average AUM (月日均), exact
     * @return the result, with the new state to store
     * @throws TieringException.Sequence when the month does not follow the state's
     * @throws TieringException.Input for invalid figures
     * @throws TieringException.State when the prior state cannot be used
     * @throws TieringException.Rules when no rule set applies to the customer
     */
    public MonthResult evaluate(Customer customer, CustomerState prior, YearMonth month, BigDecimal aum) {
        byte[] text = Tiering.cString(Objects.requireNonNull(aum, "aum").toPlainString(), "aum");
        return evaluate(customer, prior, month,
                (b, c, s, m, out) -> CrmtLibrary.C.crmt_evaluate_total(b, c, s, m, text, out));
    }

    /**
     * Evaluates one customer's month from a JSON input record, the conformance vectors' form:
     * {@code {"aum": {"total": "…"} | {"averages": [...]} | {"day_sums": [...]} | {"daily": [...]},
     * "special": {"action": "grant" | "revoke", ...}}}.
     *
     * @throws TieringException as {@link #evaluate(Customer, CustomerState, YearMonth, BigDecimal)}
     */
    public MonthResult evaluateJson(Customer customer, CustomerState prior, YearMonth month, String inputJson) {
        byte[] input = Tiering.utf8(inputJson, "inputJson");
        return evaluate(customer, prior, month,
                (b, c, s, m, out) -> CrmtLibrary.C.crmt_evaluate_json(b, c, s, m, input, input.length, out));
    }

    /**
     * Evaluates a portfolio for one month in one native call, updating {@code states} in place.
     *
     * @param month the month
     * @param customers the customers, in the order of {@code states}
     * @param aumFen each customer's AUM in fen (integer minor units)
     * @param states the prior states, replaced by the new ones (customers in error keep theirs); locked
     *     for the call (batches on one {@code BatchStates} from several threads run one at a time)
     * @param threads 0 or 1 for the calling thread, n to split the portfolio over n threads
     * @return events, alerts, AUMs and the customers in error
     * @throws IllegalArgumentException when the lengths differ, or {@code threads} is negative
     * @throws TieringException.Argument for a month the library refuses, or customers other than
     *     those {@code states} is bound to
     */
    public BatchResult evaluateBatch(YearMonth month, List<Customer> customers, long[] aumFen, BatchStates states,
            int threads) {
        int n = customers.size();
        if (Objects.requireNonNull(aumFen, "aumFen").length != n) {
            throw new IllegalArgumentException("`aumFen` has " + aumFen.length + " amounts for " + n + " customers");
        }
        return batch(month, customers, List.of(), aumFen, null, states, threads);
    }

    /**
     * As {@link #evaluateBatch(YearMonth, List, long[], BatchStates, int)}, with the values of
     * measures the rule book declares besides AUM beside the totals (SPEC §19.1, such as the 光大
     * book's {@code loan_balance} or ICBC's {@code points}): customer {@code i}'s value of measure
     * {@code j} is {@code measures} column {@code j}, entry {@code i}. A measure without a value, or
     * not named, follows its {@code absent}. This is how a batch of totals tiers under a book that
     * declares measures (without them, such a book is refused). A negative value is that customer's
     * error (field {@code measures.<code>}).
     *
     * @param measures the measure columns, one value per customer each
     * @throws TieringException for a code the rule book does not declare or that names no measure
     *     (category {@code input}, the field naming the code): nothing is evaluated
     * @throws IndexOutOfBoundsException when a measure column is shorter than the customers
     */
    public BatchResult evaluateBatch(YearMonth month, List<Customer> customers, long[] aumFen,
            MeasureColumns measures, BatchStates states, int threads) {
        int n = customers.size();
        if (Objects.requireNonNull(aumFen, "aumFen").length != n) {
            throw new IllegalArgumentException("`aumFen` has " + aumFen.length + " amounts for " + n + " customers");
        }
        return batch(month, customers, List.of(), aumFen, Objects.requireNonNull(measures, "measures"), states,
                threads);
    }

    /**
     * Evaluates a portfolio for one month from its AUM components, as {@link #evaluateBatch(YearMonth,
     * List, long[], BatchStates, int)} does from totals. {@code averagesFen} holds each customer's
     * monthly daily average of each of {@code components} (codes of the rule book's catalogue, such as
     * {@code time_deposit}) in fen, row by row: customer {@code i}'s amount of component {@code j} at
     * {@code i * components.size() + j}; {@link #NO_AMOUNT} leaves that component out for that
     * customer. An amount the rules reject (a negative one, say) is that customer's error, naming the
     * component as its field. A column may instead name a measure the rule book declares besides AUM
     * (such as {@code loan_balance}): its entries are that measure's values, {@link #NO_AMOUNT} for
     * none. (A batch of totals gives measures as {@link MeasureColumns}.)
     *
     * @param month the month
     * @param components the component codes, the columns of {@code averagesFen}; at least one
     * @param customers the customers, in the order of {@code states}
     * @param averagesFen the {@code customers.size() x components.size()} amounts in fen
     * @param states the prior states, replaced by the new ones (customers in error keep theirs)
     * @param threads 1 for the calling thread, n to split the portfolio over n threads
     * @return events, alerts, AUMs and the customers in error
     * @throws IllegalArgumentException when the matrix does not have one row per customer and one
     *     column per component, or when there is no component
     */
    public BatchResult evaluateBatch(YearMonth month, List<Customer> customers, List<String> components,
            long[] averagesFen, BatchStates states, int threads) {
        int n = customers.size();
        int k = components.size();
        if (k == 0 || (long) n * k != Objects.requireNonNull(averagesFen, "averagesFen").length) {
            throw new IllegalArgumentException("`averagesFen` has " + averagesFen.length + " amounts for " + n
                    + " customers x " + k + " components");
        }
        return batch(month, customers, components, averagesFen, null, states, threads);
    }

    /** "No amount" in a matrix of component averages ({@code CRMT_NO_AMOUNT}). */
    public static final long NO_AMOUNT = Tiering.NO_AMOUNT;

    private BatchResult batch(YearMonth month, List<Customer> customers, List<String> components, long[] fen,
            MeasureColumns measures, BatchStates states, int threads) {
        Objects.requireNonNull(states, "states");
        if (threads < 0) {
            throw new IllegalArgumentException("`threads` " + threads
                    + " is negative: 0 or 1 evaluates on the calling thread, n splits the batch over n threads");
        }
        int yyyymm = Tiering.yyyymm(month, "month");
        List<Memory> keep = new ArrayList<>();
        Memory codes = components.isEmpty() ? null : NativeArgs.strings(components, "components", keep);
        Memory amounts = NativeArgs.longs(fen.length == 0 ? new long[1] : fen);
        Memory aum = new Memory(24);
        aum.setLong(0, components.size());
        aum.setPointer(8, codes);
        aum.setPointer(16, amounts);
        Memory measured = measures == null ? null : measures.struct(customers.size(), keep);
        CrmtLibrary c = CrmtLibrary.C;
        NativeHandle sh = states.nativeHandle();
        Pointer[] p = NativeHandle.enter(handle, sh);
        NativeArgs.Columns cols = null;
        try {
            // The columns cached with the states are read and written under the states' lock.
            cols = (NativeArgs.Columns) states.columnsFor(customers);
            if (cols == null) {
                cols = NativeArgs.Columns.of(customers);
                states.remember(customers, cols);
            }
            Pointer batch = states.batch();
            Tiering.check(measured == null
                    ? c.crmt_evaluate_batch_into(p[0], yyyymm, cols.struct, aum, p[1], threads, null, batch)
                    : c.crmt_evaluate_batch_with_measures_into(p[0], yyyymm, cols.struct, aum, measured, p[1],
                            threads, null, batch));
            LongByReference count = new LongByReference();
            List<Event> events = Structs.events(c.crmt_batch_events(batch, count), count.getValue());
            List<Alert> alerts = Structs.alerts(c.crmt_batch_alerts(batch, count), count.getValue());
            Pointer aums = c.crmt_batch_aums_fen(batch, count);
            long[] aumOut = aums == null || count.getValue() == 0 ? new long[0]
                    : aums.getLongArray(0, Math.toIntExact(count.getValue()));
            long nerr = c.crmt_batch_error_count(batch);
            List<CustomerError> errors = new ArrayList<>(Math.toIntExact(nerr));
            IntByReference index = new IntByReference();
            IntByReference code = new IntByReference();
            for (long k = 0; k < nerr; k++) {
                Tiering.check(c.crmt_batch_error_at(batch, k, index, code));
                int i = index.getValue();
                String message = Tiering.text((buf, len, w) -> c.crmt_batch_error_message(batch, i, buf, len, w));
                String field = Tiering.text((buf, len, w) -> c.crmt_batch_error_field(batch, i, buf, len, w));
                errors.add(new CustomerError(i, code.getValue(), message, field,
                        Tiering.month(c.crmt_batch_error_month(batch, i))));
            }
            return new BatchResult(events, alerts, aumOut, errors);
        } finally {
            NativeHandle.exit(handle, sh);
            Reference.reachabilityFence(cols);
            Reference.reachabilityFence(amounts);
            Reference.reachabilityFence(codes);
            Reference.reachabilityFence(keep);
        }
    }

    /**
     * As {@link #evaluateBatch(YearMonth, List, long[], BatchStates, int)} with exact amounts.
     *
     * @throws IllegalArgumentException for an amount that is not a whole number of fen
     */
    public BatchResult evaluateBatch(YearMonth month, List<Customer> customers, List<BigDecimal> aums,
            BatchStates states, int threads) {
        long[] fen = new long[aums.size()];
        for (int i = 0; i < fen.length; i++) {
            fen[i] = Tiering.fen(aums.get(i));
        }
        return evaluateBatch(month, customers, fen, states, threads);
    }

    /**
     * Frees the native rule book once the calls in progress (from any thread) have returned; later
     * calls throw {@link IllegalStateException}. Idempotent and safe from any thread. Extracts,
     * states and runs made with the rule book keep working (they hold no reference to it), but
     * calls that need the rule book (evaluations, {@link Extract#addTable}, {@link Extract#Extract},
     * {@link PortfolioStates#toText}) throw.
     */
    @Override
    public void close() {
        handle.close();
    }

    /**
     * Evaluates a portfolio over a declared month, or a range of consecutive months ({@code first}
     * to {@code last}, both included), updating {@code states} in place: records are matched to
     * stored customers by id (the order of the extract does not matter), new ids join, a record or
     * designation dated outside the declared month(s), a duplicate (both rows named) or a bad record
     * holds its customer back (state kept, nothing emitted, one {@link RecordError}); known customers
     * without a record follow {@code options.absent()}.
     *
     * <p>The rule book is held in shared mode, {@code states} and {@code extract} are locked for the
     * call (in that order): other threads' calls on them wait.
     *
     * @throws TieringException.Refused when the run cannot go through as a whole (states unchanged)
     * @throws TieringException.Argument for a range that ends before it starts or at 9999-12, or a
     *     month outside 0001-01..9999-11 (refused here, before {@code year * 100 + month} is
     *     computed) or before 1900-01 (refused by the library)
     * @throws IllegalStateException when one of the objects is closed
     */
    public PortfolioResult evaluatePortfolio(PortfolioStates states, YearMonth first, YearMonth last, Extract extract,
            PortfolioOptions options) {
        Objects.requireNonNull(states, "states");
        Objects.requireNonNull(extract, "extract");
        int firstMonth = Tiering.yyyymm(first, "first");
        int lastMonth = Tiering.yyyymm(last, "last");
        Pointer opts = options(options);
        CrmtLibrary c = CrmtLibrary.C;
        PointerByReference ref = new PointerByReference();
        int made = c.crmt_portfolio_result_new(ref);
        if (made != 0) {
            c.crmt_options_free(opts);
            Tiering.check(made);
        }
        Pointer r = ref.getValue();
        NativeHandle sh = states.nativeHandle();
        NativeHandle xh = extract.nativeHandle();
        try {
            Pointer[] p = NativeHandle.enter(handle, sh, xh);
            try {
                int rc = c.crmt_evaluate_portfolio_with_options(p[0], p[1], firstMonth, lastMonth, p[2], opts, r);
                if (rc == 14) {
                    TieringException e = TieringException.fromLastError(rc);
                    throw new TieringException.Refused(rc, e.getMessage(), e.customer(), e.field(), e.month(),
                            errors(r));
                }
                Tiering.check(rc);
                java.util.Map<Integer, String> ids = new java.util.HashMap<>();
                java.util.function.IntFunction<String> id = i -> ids.computeIfAbsent(i, k -> states.idAt(k));
                LongByReference n = new LongByReference();
                Pointer q = c.crmt_portfolio_result_events(r, n);
                List<PortfolioResult.CustomerEvent> events = new ArrayList<>();
                for (Event e : Structs.events(q, n.getValue())) {
                    events.add(new PortfolioResult.CustomerEvent(id.apply(e.customerIndex()), e));
                }
                q = c.crmt_portfolio_result_alerts(r, n);
                List<PortfolioResult.CustomerAlert> alerts = new ArrayList<>();
                for (Alert a : Structs.alerts(q, n.getValue())) {
                    alerts.add(new PortfolioResult.CustomerAlert(id.apply(a.customerIndex()), a));
                }
                q = c.crmt_portfolio_result_evaluated(r, n);
                List<PortfolioResult.Evaluated> evaluated = new ArrayList<>();
                for (long k = 0; k < n.getValue(); k++) {
                    long o = k * 24;
                    evaluated.add(new PortfolioResult.Evaluated(Tiering.month(q.getInt(o)),
                            id.apply(q.getInt(o + 4)), Tiering.amount(q.getLong(o + 8)), q.getByte(o + 16) != 0));
                }
                PointerByReference json = new PointerByReference();
                Tiering.check(c.crmt_portfolio_result_to_json(r, p[1], json));
                String text = new String(Tiering.takeBuffer(json), StandardCharsets.UTF_8);
                return new PortfolioResult(List.copyOf(events), List.copyOf(alerts), List.copyOf(evaluated), errors(r),
                        text);
            } finally {
                NativeHandle.exit(handle, sh, xh);
            }
        } finally {
            c.crmt_portfolio_result_free(r);
            c.crmt_options_free(opts);
        }
    }

    /**
     * A native {@code crmt_options} with every option set by key (the library's one parser): the
     * caller frees it with {@code crmt_options_free}.
     *
     * @throws TieringException.Argument for an option the library refuses, naming its key
     */
    private static Pointer options(PortfolioOptions options) {
        Objects.requireNonNull(options, "options");
        CrmtLibrary c = CrmtLibrary.C;
        PointerByReference ref = new PointerByReference();
        Tiering.check(c.crmt_options_new(ref));
        Pointer o = ref.getValue();
        try {
            for (Map.Entry<String, String> kv : options.pairs().entrySet()) {
                Tiering.check(c.crmt_options_set(o, Tiering.cString(kv.getKey(), "option key"),
                        Tiering.cString(kv.getValue(), "option " + kv.getKey())));
            }
            return o;
        } catch (RuntimeException e) {
            c.crmt_options_free(o);
            throw e;
        }
    }

    /** As {@link #evaluatePortfolio(PortfolioStates, YearMonth, YearMonth, Extract, PortfolioOptions)} for one month. */
    public PortfolioResult evaluatePortfolio(PortfolioStates states, YearMonth month, Extract extract,
            PortfolioOptions options) {
        return evaluatePortfolio(states, month, month, extract, options);
    }

    /**
     * The fast path of {@link #evaluatePortfolio(PortfolioStates, YearMonth, YearMonth, Extract, PortfolioOptions)}:
     * the same run (same rules, same checks, same refusals), its results left in {@code run} to be
     * read as primitive columns, with no Java object per customer. {@code run} is reused month after
     * month; it is emptied first, so after any failure (an exception of this method, whatever its
     * cause) it shows nothing of an earlier run: a refused run shows only its reasons
     * ({@link PortfolioRun#errors()}), any other failure nothing at all. The rule book is held in
     * shared mode, {@code states}, {@code extract} and {@code run} are locked for the call (in that
     * order).
     *
     * @throws TieringException.Refused when the run is refused as a whole (states unchanged)
     * @throws TieringException.Argument for a month outside 0001-01..9999-11 (refused here) or
     *     before 1900-01, a range that ends before it starts
     * @throws IllegalStateException when one of the objects is closed
     */
    public PortfolioRun evaluatePortfolioInto(PortfolioStates states, YearMonth first, YearMonth last, Extract extract,
            PortfolioOptions options, PortfolioRun run) {
        Objects.requireNonNull(run, "run");
        // Whatever fails from here on, the run shows no earlier results (a refused run shows its reasons).
        run.reset();
        Objects.requireNonNull(states, "states");
        Objects.requireNonNull(extract, "extract");
        int firstMonth = Tiering.yyyymm(first, "first");
        int lastMonth = Tiering.yyyymm(last, "last");
        Pointer opts = options(options);
        NativeHandle sh = states.nativeHandle();
        NativeHandle xh = extract.nativeHandle();
        NativeHandle rh = run.nativeHandle();
        Pointer[] p;
        try {
            p = NativeHandle.enter(handle, sh, xh, rh);
        } catch (RuntimeException e) {
            CrmtLibrary.C.crmt_options_free(opts);
            throw e;
        }
        try {
            // Another thread may have run into `run` since the reset above.
            run.reset();
            int rc = CrmtDirect.crmt_evaluate_portfolio_with_options(p[0], p[1], firstMonth, lastMonth, p[2], opts,
                    p[3]);
            if (rc == 14) {
                TieringException e = TieringException.fromLastError(rc);
                run.filled(states);
                throw new TieringException.Refused(rc, e.getMessage(), e.customer(), e.field(), e.month(),
                        errors(p[3]));
            }
            Tiering.check(rc);
            run.filled(states);
            return run;
        } finally {
            NativeHandle.exit(handle, sh, xh, rh);
            CrmtLibrary.C.crmt_options_free(opts);
        }
    }

    /** As {@link #evaluatePortfolioInto(PortfolioStates, YearMonth, YearMonth, Extract, PortfolioOptions, PortfolioRun)} for one month. */
    public PortfolioRun evaluatePortfolioInto(PortfolioStates states, YearMonth month, Extract extract,
            PortfolioOptions options, PortfolioRun run) {
        return evaluatePortfolioInto(states, month, month, extract, options, run);
    }

    /** The fingerprint of this rule book, which stored states are stamped with. */
    public String fingerprint() {
        Pointer h = handle.enter();
        try {
            return Tiering.text((b, l, w) -> CrmtLibrary.C.crmt_rulebook_fingerprint(h, b, l, w));
        } finally {
            handle.exit();
        }
    }

    private static String str(Pointer p, long offset) {
        Pointer s = p.getPointer(offset);
        return s == null ? null : s.getString(0, "UTF-8");
    }

    /** The errors of a portfolio result; the caller holds the result's lock. */
    static List<RecordError> errors(Pointer r) {
        LongByReference n = new LongByReference();
        Pointer p = CrmtLibrary.C.crmt_portfolio_result_errors(r, n);
        List<RecordError> out = new ArrayList<>();
        for (long k = 0; k < n.getValue(); k++) {
            long o = k * 96;
            out.add(new RecordError(str(p, o + 8), p.getInt(o), Tiering.month(p.getInt(o + 16)), p.getLong(o + 24),
                    str(p, o + 32), Tiering.month(p.getInt(o + 40)), str(p, o + 48), str(p, o + 56), str(p, o + 64),
                    p.getLong(o + 72), str(p, o + 80), p.getLong(o + 88)));
        }
        return List.copyOf(out);
    }
}
