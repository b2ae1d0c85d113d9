package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.math.BigDecimal;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;

/**
 * The records of a portfolio month (or a range of months): AUM rows, daily balances and special
 * VIP designations, each located by table and row. Records are checked by the core; a bad record
 * is kept and reported by {@link RuleBook#evaluatePortfolio} (its customer held back), a record
 * whose customer cannot be identified makes the run fail as a whole. Not thread-safe; close it.
 */
public final class Extract implements AutoCloseable {
    /** The kinds of table. */
    public enum TableKind { AUM, DAILY, DESIGNATIONS }

    private Pointer handle;
    private final RuleBook rules;

    /** An empty extract for a rule book (evaluate it with the same rule book). */
    public Extract(RuleBook rules) {
        this.rules = rules;
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_extract_new(rules.handle(), out));
        this.handle = out.getValue();
    }

    private static Memory strings(List<String> values, List<Memory> keep) {
        Memory array = new Memory((long) Native.POINTER_SIZE * Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) {
            Memory s = Tiering.nativeString(values.get(i));
            keep.add(s);
            array.setPointer((long) i * Native.POINTER_SIZE, s);
        }
        return array;
    }

    /**
     * Adds a table of text cells as a CSV extract holds them: the header is resolved once (names in
     * English or Chinese, components by code or name, each named once); {@code rows.get(k)} is row k
     * of {@code table} in every error.
     *
     * @throws TieringException.Input naming the column when the header is refused (nothing added)
     */
    public Extract addTable(String table, TableKind kind, List<String> header, List<List<String>> rows) {
        List<Memory> keep = new ArrayList<>();
        Memory headers = strings(header, keep);
        PointerByReference cols = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_columns_resolve(rules.handle(), kind.ordinal(), headers, header.size(), cols));
        try {
            byte[] t = Tiering.cString(table);
            for (int k = 0; k < rows.size(); k++) {
                List<Memory> cellKeep = new ArrayList<>();
                Memory cells = strings(rows.get(k), cellKeep);
                Tiering.check(CrmtLibrary.C.crmt_extract_push_cells(handle(), t, cols.getValue(), k, cells,
                        rows.get(k).size()));
            }
        } finally {
            CrmtLibrary.C.crmt_columns_free(cols.getValue());
        }
        return this;
    }

    /**
     * Adds a customer's total AUM for a month. {@code legalEntity} null keeps the stored one,
     * {@code kind} null keeps the stored kind, {@code month} null means the declared month.
     *
     * @throws ArithmeticException when the amount has more than two decimals or does not fit in fen
     */
    public Extract addTotal(String table, long row, String customerId, String legalEntity, Customer.Kind kind,
            YearMonth month, BigDecimal aum) {
        long fen = aum.setScale(2).unscaledValue().longValueExact();
        int k = kind == null ? -1 : kind == Customer.Kind.CORPORATE ? 1 : 0;
        Tiering.check(CrmtLibrary.C.crmt_extract_push_total_fen(handle(), Tiering.cString(table), row,
                Tiering.cString(customerId), legalEntity == null ? null : Tiering.cString(legalEntity), k,
                month == null ? 0 : Tiering.yyyymm(month), fen));
        return this;
    }

    /**
     * Adds a special VIP grant (认定), applied with the evaluation of {@code month}; {@code tier}
     * null: the rules' default special tier; {@code months} 0: the rules' validity.
     */
    public Extract grant(String table, long row, String customerId, YearMonth month, String tier, int months) {
        Tiering.check(CrmtLibrary.C.crmt_extract_push_grant(handle(), Tiering.cString(table), row,
                Tiering.cString(customerId), Tiering.yyyymm(month), tier == null ? null : Tiering.cString(tier), months));
        return this;
    }

    /** Adds a special VIP revocation (撤销), applied with the evaluation of {@code month}. */
    public Extract revoke(String table, long row, String customerId, YearMonth month) {
        Tiering.check(CrmtLibrary.C.crmt_extract_push_revoke(handle(), Tiering.cString(table), row,
                Tiering.cString(customerId), Tiering.yyyymm(month)));
        return this;
    }

    Pointer handle() {
        if (handle == null) {
            throw new IllegalStateException("the extract is closed");
        }
        return handle;
    }

    /** Frees the native extract. Idempotent. */
    @Override
    public void close() {
        if (handle != null) {
            CrmtLibrary.C.crmt_extract_free(handle);
            handle = null;
        }
    }
}
