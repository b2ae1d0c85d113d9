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
     * Adds a chunk of customers' month totals in one native call (the fast path): record {@code i}
     * is row {@code firstRow + i} of {@code table}; customer {@code i}'s id is the UTF-8 bytes
     * {@code ids[idOffsets[i] .. idOffsets[i + 1]]} ({@code idOffsets} has {@code count + 1}
     * non-decreasing entries). {@code legalEntities}/{@code legalEntityOffsets} likewise (null, or
     * an empty entry, keeps the stored one); {@code kinds} 0 personal, 1 corporate, -1 keep (null:
     * keep all); {@code months} {@code yyyymm}, 0 for the declared month (null: all declared);
     * {@code fen} the totals in fen. Each record is checked and reported exactly as
     * {@link #addTotal} would (bad records hold their customer back; an unidentifiable customer
     * refuses the run). The arrays are only read during the call.
     *
     * @throws TieringException.Argument for offsets that decrease or arrays too short (nothing added)
     */
    public Extract addTotals(String table, long firstRow, int count, byte[] ids, long[] idOffsets, byte[] legalEntities,
            long[] legalEntityOffsets, byte[] kinds, int[] months, long[] fen) {
        java.util.Objects.checkFromIndexSize(0, count + 1, idOffsets.length);
        java.util.Objects.checkFromIndexSize(0, count, fen.length);
        java.util.Objects.checkFromIndexSize(0, (int) idOffsets[count], ids.length);
        if (legalEntities != null) {
            java.util.Objects.checkFromIndexSize(0, count + 1, legalEntityOffsets.length);
            java.util.Objects.checkFromIndexSize(0, (int) legalEntityOffsets[count], legalEntities.length);
        }
        if (kinds != null) {
            java.util.Objects.checkFromIndexSize(0, count, kinds.length);
        }
        if (months != null) {
            java.util.Objects.checkFromIndexSize(0, count, months.length);
        }
        Tiering.check(CrmtDirect.crmt_extract_push_totals_fen(handle(), Tiering.cString(table), firstRow, count, ids,
                idOffsets, legalEntities, legalEntityOffsets, kinds, months, fen));
        return this;
    }

    /**
     * As {@link #addTotals(String, long, int, byte[], long[], byte[], long[], byte[], int[], long[])}
     * from strings: the ids (and legal entities, null for none) are encoded as UTF-8 columns here.
     */
    public Extract addTotals(String table, long firstRow, String[] ids, String[] legalEntities, byte[] kinds,
            int[] months, long[] fen) {
        int n = ids.length;
        long[] idOffsets = new long[n + 1];
        byte[] idBytes = utf8Column(ids, idOffsets);
        long[] entityOffsets = legalEntities == null ? null : new long[n + 1];
        byte[] entityBytes = legalEntities == null ? null : utf8Column(legalEntities, entityOffsets);
        return addTotals(table, firstRow, n, idBytes, idOffsets, entityBytes, entityOffsets, kinds, months, fen);
    }

    /** Concatenated UTF-8 of the strings (null: empty), with their offsets. ASCII is copied directly. */
    static byte[] utf8Column(String[] values, long[] offsets) {
        int len = 0;
        boolean ascii = true;
        for (String v : values) {
            if (v == null) {
                continue;
            }
            len += v.length();
            for (int k = 0; k < v.length() && ascii; k++) {
                ascii = v.charAt(k) < 0x80;
            }
        }
        if (!ascii) {
            byte[][] parts = new byte[values.length][];
            len = 0;
            for (int i = 0; i < values.length; i++) {
                parts[i] = values[i] == null ? new byte[0] : values[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
                len += parts[i].length;
            }
            byte[] out = new byte[len];
            int at = 0;
            for (int i = 0; i < values.length; i++) {
                System.arraycopy(parts[i], 0, out, at, parts[i].length);
                at += parts[i].length;
                offsets[i + 1] = at;
            }
            return out;
        }
        byte[] out = new byte[len];
        int at = 0;
        for (int i = 0; i < values.length; i++) {
            String v = values[i];
            if (v != null) {
                for (int k = 0; k < v.length(); k++) {
                    out[at++] = (byte) v.charAt(k);
                }
            }
            offsets[i + 1] = at;
        }
        return out;
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
