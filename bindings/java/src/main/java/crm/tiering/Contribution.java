package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A customer contribution month (客户贡献度, SPEC §20), computed by the library from a rule book's
 * TOML text and the input tables' CSV text: every customer's figures, the account managers'
 * roll-ups and the unassigned customers' figures as {@link BigDecimal}s (exact, two decimals), and
 * the whole month (branches, legal entities, stages, lineage too) as JSON ({@link #toJson()}).
 *
 * <p>The figures are read when the month is computed; the native month stays open for
 * {@link #toJson()} until {@link #close()}. Immutable: any number of threads may read it at once.
 */
public final class Contribution implements AutoCloseable {
    /**
     * The input tables {@link #compute} takes, by their names in SPEC §20.7 (and in error
     * messages): {@code account_months} (required), then {@code fees}, {@code cost_pools},
     * {@code activities}, {@code direct_costs}, {@code assignments} (each optional).
     */
    public static final List<String> TABLES =
            List.of("account_months", "fees", "cost_pools", "activities", "direct_costs", "assignments");

    /** The figures' names, the library's ({@code interest_asset} ... {@code net_contribution}), in its order. */
    public static final List<String> FIGURES = figureNames();

    /** A customer's figures, by the names of {@link #FIGURES}, in that order. */
    public record Customer(String customer, Map<String, BigDecimal> figures) {}

    /**
     * An account manager's roll-up: how many customers it has a share of, and its figures (each
     * customer's components split by its share, SPEC §20.6).
     */
    public record Manager(String manager, long customers, Map<String, BigDecimal> figures) {}

    private final YearMonth month;
    private final List<Customer> customers;
    private final List<Manager> managers;
    private final Map<String, BigDecimal> unassigned;
    private final NativeHandle handle;

    private Contribution(NativeHandle handle, Pointer p) {
        this.handle = handle;
        CrmtLibrary c = CrmtLibrary.C;
        this.month = Tiering.month(c.crmt_contribution_month(p));
        List<Customer> cs = new ArrayList<>();
        for (long i = 0, n = c.crmt_contribution_customer_count(p); i < n; i++) {
            long k = i;
            String id = Tiering.text((b, l, w) -> c.crmt_contribution_customer_id(p, k, b, l, w));
            cs.add(new Customer(id, figures(out -> c.crmt_contribution_customer_figures(p, k, out))));
        }
        List<Manager> ms = new ArrayList<>();
        for (long i = 0, n = c.crmt_contribution_manager_count(p); i < n; i++) {
            long k = i;
            String id = Tiering.text((b, l, w) -> c.crmt_contribution_manager_id(p, k, b, l, w));
            LongByReference count = new LongByReference();
            Map<String, BigDecimal> f = figures(out -> c.crmt_contribution_manager_figures(p, k, count, out));
            ms.add(new Manager(id, count.getValue(), f));
        }
        this.customers = List.copyOf(cs);
        this.managers = List.copyOf(ms);
        this.unassigned = figures(out -> c.crmt_contribution_unassigned(p, out));
    }

    /**
     * Computes the contribution month {@code month}.
     *
     * @param bookToml the rule book (SPEC §20.2), with its FTP rates inline
     * @param month the month computed: every record must be of it
     * @param tables the CSV texts by the names of {@link #TABLES}; {@code account_months} required
     * @throws TieringException.Rules when the first error is the rule book's
     * @throws TieringException.Input otherwise (a table's line or cell, a record, a missing FTP
     *     rate, manager shares...): {@link TieringException#field()} and
     *     {@link TieringException#recordTable()}/{@link TieringException#recordRow()} (the CSV line,
     *     the header line 1) are the first error's; the message holds every error, one a line
     * @throws IllegalArgumentException for a table name not in {@link #TABLES}, or a text holding NUL
     */
    public static Contribution compute(String bookToml, YearMonth month, Map<String, String> tables) {
        Objects.requireNonNull(tables, "tables");
        for (String name : tables.keySet()) {
            if (!TABLES.contains(name)) {
                throw new IllegalArgumentException("`" + name + "` is not a contribution table: " + TABLES);
            }
        }
        byte[][] t = new byte[TABLES.size()][];
        for (int i = 0; i < t.length; i++) {
            t[i] = Tiering.cStringOrNull(tables.get(TABLES.get(i)), TABLES.get(i));
        }
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_contribution_compute(Tiering.cString(bookToml, "bookToml"),
                Tiering.yyyymm(month, "month"), t[0], t[1], t[2], t[3], t[4], t[5], out));
        NativeHandle handle = new NativeHandle("the contribution month", "the contribution month is closed",
                NativeHandle.CONTRIBUTION, true, out.getValue(), CrmtLibrary.C::crmt_contribution_free);
        try {
            return new Contribution(handle, out.getValue());
        } catch (RuntimeException e) {
            handle.close();
            throw e;
        }
    }

    /** The month computed. */
    public YearMonth month() {
        return month;
    }

    /** Every customer's figures, by customer id (bytes). */
    public List<Customer> customers() {
        return customers;
    }

    /** Every account manager's roll-up, by manager id (bytes). */
    public List<Manager> managers() {
        return managers;
    }

    /** The figures of the customers without an account manager. */
    public Map<String, BigDecimal> unassigned() {
        return unassigned;
    }

    /**
     * The whole month as JSON (the library's form, the same for every binding): {@code month},
     * {@code customers}, {@code managers}, {@code unassigned}, {@code branches},
     * {@code legal_entities}, {@code stages}, {@code lineage}; amounts as decimal texts.
     *
     * @throws IllegalStateException once closed
     */
    public String toJson() {
        PointerByReference out = new PointerByReference();
        Pointer p = handle.enter();
        try {
            Tiering.check(CrmtLibrary.C.crmt_contribution_to_json(p, out));
        } finally {
            handle.exit();
        }
        return new String(Tiering.takeBuffer(out), StandardCharsets.UTF_8);
    }

    /** Frees the native month (waiting for a {@link #toJson()} in progress); the figures stay readable. */
    @Override
    public void close() {
        handle.close();
    }

    private interface FiguresReader {
        int read(Pointer out);
    }

    private static Map<String, BigDecimal> figures(FiguresReader r) {
        Memory m = new Memory(8L * FIGURES.size());
        Tiering.check(r.read(m));
        Map<String, BigDecimal> f = new LinkedHashMap<>();
        for (int i = 0; i < FIGURES.size(); i++) {
            f.put(FIGURES.get(i), Tiering.amount(m.getLong(8L * i)));
        }
        return Collections.unmodifiableMap(f);
    }

    private static List<String> figureNames() {
        List<String> names = new ArrayList<>();
        for (Pointer p; (p = CrmtLibrary.C.crmt_contribution_figure_name(names.size())) != null; ) {
            names.add(p.getString(0, "UTF-8"));
        }
        return List.copyOf(names);
    }
}
