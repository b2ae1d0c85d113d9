package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.lang.ref.Reference;
import java.math.BigDecimal;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The records of a portfolio month (or a range of months): AUM rows, daily balances and special
 * VIP designations, each located by table and row. Records are checked by the core; a bad record
 * is kept and reported by {@link RuleBook#evaluatePortfolio} (its customer held back), a record
 * whose customer cannot be identified makes the run fail as a whole. Close it.
 *
 * <p><b>Threads.</b> Every call locks the extract for its duration: calls from several threads
 * (adds, an evaluation reading it, {@link #close()}) run one at a time, never at once. Records added
 * from several threads are all kept, in the order the calls took the lock. {@link #close()} waits
 * for the call in progress; later calls throw {@link IllegalStateException}; closing again, from
 * any thread, does nothing.
 *
 * <p><b>Checks before the native call.</b> Offsets and lengths of the bulk
 * {@link #addTotals(String, long, int, byte[], long[], byte[], long[], byte[], int[], long[])} are
 * checked in Java (a negative count or offset, an offset beyond its array, an array shorter than
 * {@code count}: {@link IndexOutOfBoundsException}; decreasing offsets:
 * {@link TieringException.Argument}), so the library never reads past an array. Strings that
 * become C strings (table names, ids, legal entities, tier codes, headers, cells) holding a NUL
 * are refused with {@link IllegalArgumentException} (the library would read them cut at the NUL:
 * {@code "c1\u0000other"} would be the customer {@code c1}); so are lone surrogates (which UTF-8
 * cannot hold), negative rows and months outside 0001-01..9999-11 ({@link TieringException.Argument},
 * as the library refuses months before 1900-01 for evaluation). Nothing is added when a call is
 * refused.
 */
public final class Extract implements AutoCloseable {
    /** The kinds of table. */
    public enum TableKind { AUM, DAILY, DESIGNATIONS }

    private final NativeHandle handle;
    private final RuleBook rules;

    /** An empty extract for a rule book (evaluate it with the same rule book). */
    public Extract(RuleBook rules) {
        this.rules = Objects.requireNonNull(rules, "rules");
        PointerByReference out = new PointerByReference();
        NativeHandle book = rules.nativeHandle();
        Pointer b = book.enter();
        try {
            Tiering.check(CrmtLibrary.C.crmt_extract_new(b, out));
        } finally {
            book.exit();
        }
        this.handle = new NativeHandle("the extract", "the extract is closed", NativeHandle.EXTRACT, false,
                out.getValue(), CrmtLibrary.C::crmt_extract_free);
    }

    /** Whether a string can be passed as a C string: no NUL, no lone surrogate (checked without copying). */
    private static boolean plainCString(String s) {
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == 0 || Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Adds a table of text cells as a CSV extract holds them: the header is resolved once (names in
     * English or Chinese, components by code or name, each named once); {@code rows.get(k)} is row k
     * of {@code table} in every error.
     *
     * @throws TieringException.Input naming the column when the header is refused (nothing added)
     * @throws IllegalArgumentException when the table name, a header or a cell holds a NUL or a lone
     *     surrogate (named as {@code header[j]} or {@code rows[k][j]}; nothing added)
     */
    public Extract addTable(String table, TableKind kind, List<String> header, List<List<String>> rows) {
        byte[] t = Tiering.cString(table, "table");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(rows, "rows");
        // Every cell is checked before anything is added.
        for (int k = 0; k < rows.size(); k++) {
            List<String> row = Objects.requireNonNull(rows.get(k), "rows[" + k + "]");
            for (int j = 0; j < row.size(); j++) {
                String cell = row.get(j);
                if (cell == null || !plainCString(cell)) {
                    Tiering.cString(cell, "rows[" + k + "][" + j + "]"); // throws, naming the cell
                }
            }
        }
        List<Memory> keep = new ArrayList<>();
        Memory headers = NativeArgs.strings(Objects.requireNonNull(header, "header"), "header", keep);
        NativeHandle book = rules.nativeHandle();
        Pointer[] p = NativeHandle.enter(book, handle);
        try {
            PointerByReference cols = new PointerByReference();
            Tiering.check(CrmtLibrary.C.crmt_columns_resolve(p[0], kind.ordinal(), headers, header.size(), cols));
            try {
                for (int k = 0; k < rows.size(); k++) {
                    List<String> row = rows.get(k);
                    List<Memory> cellKeep = new ArrayList<>();
                    Memory cells = NativeArgs.strings(row, "rows[" + k + "]", cellKeep);
                    Tiering.check(CrmtLibrary.C.crmt_extract_push_cells(p[1], t, cols.getValue(), k, cells, row.size()));
                    Reference.reachabilityFence(cellKeep);
                }
                // A month column none of whose cells reads as a month refuses the run (SPEC §15.4).
                Tiering.check(CrmtLibrary.C.crmt_extract_end_table(p[1], t, cols.getValue()));
            } finally {
                CrmtLibrary.C.crmt_columns_free(cols.getValue());
            }
        } finally {
            NativeHandle.exit(book, handle);
            Reference.reachabilityFence(keep);
        }
        return this;
    }

    /**
     * Adds a customer's total AUM for a month. {@code legalEntity} null keeps the stored one,
     * {@code kind} null keeps the stored kind, {@code month} null means the declared month.
     *
     * @throws ArithmeticException when the amount has more than two decimals or does not fit in fen
     * @throws IllegalArgumentException when the table, id or legal entity holds a NUL (or a lone
     *     surrogate), or the row is negative
     * @throws TieringException.Argument for a month outside 0001-01..9999-11
     */
    public Extract addTotal(String table, long row, String customerId, String legalEntity, Customer.Kind kind,
            YearMonth month, BigDecimal aum) {
        byte[] t = Tiering.cString(table, "table");
        Tiering.row(row, "row");
        byte[] id = Tiering.cString(customerId, "customerId");
        byte[] entity = Tiering.cStringOrNull(legalEntity, "legalEntity");
        int m = month == null ? 0 : Tiering.yyyymm(month, "month");
        long fen = Objects.requireNonNull(aum, "aum").setScale(2).unscaledValue().longValueExact();
        int k = kind == null ? -1 : kind == Customer.Kind.CORPORATE ? 1 : 0;
        Pointer x = handle.enter();
        try {
            Tiering.check(CrmtLibrary.C.crmt_extract_push_total_fen(x, t, row, id, entity, k, m, fen));
        } finally {
            handle.exit();
        }
        return this;
    }

    /**
     * Checks a column of offsets as {@code crmt_extract_push_totals_fen} reads it: {@code count + 1}
     * entries, the first not negative, none decreasing, the last within {@code data}.
     */
    private static void checkOffsets(long[] offsets, int count, int dataLength, String name, String dataName,
            String nativeName) {
        if (offsets.length - 1L < count) {
            throw new IndexOutOfBoundsException("`" + name + "` has " + offsets.length + " entries: " + (count + 1L)
                    + " needed (`count` + 1)");
        }
        long prev = offsets[0];
        if (prev < 0) {
            throw new IndexOutOfBoundsException("`" + name + "[0]` is " + prev + ": offsets are not negative");
        }
        for (int i = 1; i <= count; i++) {
            long o = offsets[i];
            if (o < prev) {
                throw new TieringException.Argument(Tiering.INVALID_ARGUMENT, "`" + name + "` decrease at index " + i
                        + " (" + prev + " then " + o + "): offsets are non-decreasing", "", nativeName, null);
            }
            prev = o;
        }
        if (prev > dataLength) {
            throw new IndexOutOfBoundsException("`" + name + "[" + count + "]` is " + prev + ", beyond `" + dataName
                    + "` (" + dataLength + " bytes)");
        }
    }

    private static void checkLength(int length, int count, String name) {
        if (length < count) {
            throw new IndexOutOfBoundsException("`" + name + "` has " + length + " entries for `count` " + count);
        }
    }

    /**
     * Adds a chunk of customers' month totals in one native call (the fast path): record {@code i}
     * is row {@code firstRow + i} of {@code table}; customer {@code i}'s id is the UTF-8 bytes
     * {@code ids[idOffsets[i] .. idOffsets[i + 1]]} ({@code idOffsets} has {@code count + 1}
     * non-decreasing entries). {@code legalEntities}/{@code legalEntityOffsets} likewise (null, or
     * an empty entry, keeps the stored one); {@code kinds} 0 personal, 1 corporate, -1 keep (null:
     * keep all); {@code months} {@code yyyymm}, 0 for the declared month (null: all declared);
     * {@code fen} the totals in fen. Each record is checked and reported exactly as
     * {@link #addTotal} would (bad records hold their customer back; an unidentifiable customer,
     * such as an id holding a NUL or another control character, refuses the run). The arrays are
     * only read during the call (longer arrays are fine: the first {@code count} entries are read).
     *
     * <p>Checked here before the native call, nothing added when refused: {@code count} and
     * {@code firstRow} not negative and {@code firstRow + count} within a {@code long}; each offset
     * column {@code count + 1} entries long, the first not negative, the last within its bytes;
     * {@code kinds}, {@code months} and {@code fen} at least {@code count} long.
     *
     * @throws IndexOutOfBoundsException for a negative offset, an offset beyond its bytes, or an
     *     array too short (the message names the argument)
     * @throws TieringException.Argument for offsets that decrease (field {@code id_offsets} or
     *     {@code legal_entity_offsets}, as the library names them)
     * @throws IllegalArgumentException for a negative {@code count} or {@code firstRow}, a table name
     *     holding a NUL, or legal entities without offsets
     */
    public Extract addTotals(String table, long firstRow, int count, byte[] ids, long[] idOffsets, byte[] legalEntities,
            long[] legalEntityOffsets, byte[] kinds, int[] months, long[] fen) {
        return push(table, firstRow, count, ids, idOffsets, legalEntities, legalEntityOffsets, kinds, months, fen,
                null);
    }

    /**
     * As {@link #addTotals(String, long, int, byte[], long[], byte[], long[], byte[], int[], long[])},
     * with the values of measures the rule book declares besides AUM (SPEC §19.1) beside the totals:
     * record {@code i}'s value of measure {@code j} is {@code measures} column {@code j}, entry
     * {@code i} (its columns hold {@code count} values each). A measure without a value, or not
     * named, follows its {@code absent} in the evaluation; a negative value is that customer's error
     * (field {@code measures.<code>}), reported by the evaluation.
     *
     * @throws TieringException for a code the rule book does not declare or that names no measure
     *     (category {@code input}, the field naming the code): nothing is added
     * @throws IndexOutOfBoundsException as the form without measures, and when a measure column is
     *     shorter than {@code count}
     */
    public Extract addTotals(String table, long firstRow, int count, byte[] ids, long[] idOffsets, byte[] legalEntities,
            long[] legalEntityOffsets, byte[] kinds, int[] months, long[] fen, MeasureColumns measures) {
        return push(table, firstRow, count, ids, idOffsets, legalEntities, legalEntityOffsets, kinds, months, fen,
                Objects.requireNonNull(measures, "measures"));
    }

    /** The bulk push of totals, with measures when not null. */
    private Extract push(String table, long firstRow, int count, byte[] ids, long[] idOffsets, byte[] legalEntities,
            long[] legalEntityOffsets, byte[] kinds, int[] months, long[] fen, MeasureColumns measures) {
        byte[] t = Tiering.cString(table, "table");
        Tiering.row(firstRow, "firstRow");
        if (count < 0) {
            throw new IllegalArgumentException("`count` " + count + " is negative");
        }
        if (firstRow > Long.MAX_VALUE - count) {
            throw new IllegalArgumentException("`firstRow` " + firstRow + " + `count` " + count
                    + " is beyond the last row (" + Long.MAX_VALUE + ")");
        }
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(idOffsets, "idOffsets");
        Objects.requireNonNull(fen, "fen");
        checkOffsets(idOffsets, count, ids.length, "idOffsets", "ids", "id_offsets");
        if (legalEntities != null) {
            if (legalEntityOffsets == null) {
                throw new IllegalArgumentException("`legalEntities` without `legalEntityOffsets`");
            }
            checkOffsets(legalEntityOffsets, count, legalEntities.length, "legalEntityOffsets", "legalEntities",
                    "legal_entity_offsets");
        }
        if (kinds != null) {
            checkLength(kinds.length, count, "kinds");
        }
        if (months != null) {
            checkLength(months.length, count, "months");
        }
        checkLength(fen.length, count, "fen");
        if (measures != null) {
            return pushMeasured(t, firstRow, count, ids, idOffsets, legalEntities, legalEntityOffsets, kinds, months,
                    fen, measures);
        }
        Pointer x = handle.enter();
        try {
            Tiering.check(CrmtDirect.crmt_extract_push_totals_fen(x, t, firstRow, count, ids, idOffsets,
                    legalEntities, legalEntities == null ? null : legalEntityOffsets, kinds, months, fen));
        } finally {
            handle.exit();
        }
        return this;
    }

    /** The native push of checked totals with measures, under the extract's and the rule book's locks. */
    private Extract pushMeasured(byte[] t, long firstRow, int count, byte[] ids, long[] idOffsets,
            byte[] legalEntities, long[] legalEntityOffsets, byte[] kinds, int[] months, long[] fen,
            MeasureColumns measures) {
        List<Memory> keep = new ArrayList<>();
        Memory m = measures.struct(count, keep);
        NativeHandle book = rules.nativeHandle();
        Pointer[] p = NativeHandle.enter(handle, book);
        try {
            Tiering.check(CrmtDirect.crmt_extract_push_totals_with_measures_fen(p[0], p[1], t, firstRow, count, ids,
                    idOffsets, legalEntities, legalEntities == null ? null : legalEntityOffsets, kinds, months, fen,
                    m));
        } finally {
            NativeHandle.exit(handle, book);
            Reference.reachabilityFence(keep);
        }
        return this;
    }

    /**
     * As {@link #addTotals(String, long, int, byte[], long[], byte[], long[], byte[], int[], long[])}
     * from strings: the ids (and legal entities, null for none) are encoded as UTF-8 columns here.
     * {@code legalEntities}, {@code kinds}, {@code months} and {@code fen} hold at least
     * {@code ids.length} entries. An id holding a NUL is refused by the library as an
     * unidentifiable customer (the run is refused, naming the row), as in the byte form.
     *
     * @throws IllegalArgumentException for a string holding a lone surrogate (named as {@code ids[i]}
     *     or {@code legalEntities[i]}), which UTF-8 cannot hold
     */
    public Extract addTotals(String table, long firstRow, String[] ids, String[] legalEntities, byte[] kinds,
            int[] months, long[] fen) {
        return addTotals(table, firstRow, ids, legalEntities, kinds, months, fen, null);
    }

    /**
     * As {@link #addTotals(String, long, String[], String[], byte[], int[], long[])}, with measure
     * values as {@link #addTotals(String, long, int, byte[], long[], byte[], long[], byte[], int[],
     * long[], MeasureColumns)} takes them ({@code null}: none, the form without measures).
     */
    public Extract addTotals(String table, long firstRow, String[] ids, String[] legalEntities, byte[] kinds,
            int[] months, long[] fen, MeasureColumns measures) {
        int n = Objects.requireNonNull(ids, "ids").length;
        if (legalEntities != null) {
            checkLength(legalEntities.length, n, "legalEntities");
        }
        long[] idOffsets = new long[n + 1];
        byte[] idBytes = utf8Column(ids, n, idOffsets, "ids");
        long[] entityOffsets = legalEntities == null ? null : new long[n + 1];
        byte[] entityBytes = legalEntities == null ? null : utf8Column(legalEntities, n, entityOffsets, "legalEntities");
        return push(table, firstRow, n, idBytes, idOffsets, entityBytes, entityOffsets, kinds, months, fen, measures);
    }

    /**
     * Concatenated UTF-8 of the first {@code n} strings (null: empty), with their offsets. ASCII is
     * copied directly; other strings are checked (no lone surrogate, named {@code what[i]}).
     */
    static byte[] utf8Column(String[] values, int n, long[] offsets, String what) {
        long total = 0;
        boolean ascii = true;
        for (int i = 0; i < n; i++) {
            String v = values[i];
            if (v == null) {
                continue;
            }
            total += v.length();
            for (int k = 0; k < v.length() && ascii; k++) {
                ascii = v.charAt(k) < 0x80;
            }
        }
        if (!ascii) {
            byte[][] parts = new byte[n][];
            total = 0;
            for (int i = 0; i < n; i++) {
                parts[i] = values[i] == null ? new byte[0] : Tiering.utf8(values[i], what + "[" + i + "]");
                total += parts[i].length;
            }
            byte[] out = new byte[checkedSize(total, what)];
            int at = 0;
            for (int i = 0; i < n; i++) {
                System.arraycopy(parts[i], 0, out, at, parts[i].length);
                at += parts[i].length;
                offsets[i + 1] = at;
            }
            return out;
        }
        byte[] out = new byte[checkedSize(total, what)];
        int at = 0;
        for (int i = 0; i < n; i++) {
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

    private static int checkedSize(long total, String what) {
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("`" + what + "` hold " + total
                    + " bytes of UTF-8: more than one Java array can; push them in chunks");
        }
        return (int) total;
    }

    /**
     * Adds a special VIP grant (认定), applied with the evaluation of {@code month}; {@code tier}
     * null: the rules' default special tier; {@code months} 0: the rules' validity.
     *
     * @throws IllegalArgumentException when the table, id or tier holds a NUL, or the row or
     *     {@code months} is negative
     * @throws TieringException.Argument for a month outside 0001-01..9999-11
     */
    public Extract grant(String table, long row, String customerId, YearMonth month, String tier, int months) {
        byte[] t = Tiering.cString(table, "table");
        Tiering.row(row, "row");
        byte[] id = Tiering.cString(customerId, "customerId");
        int m = Tiering.yyyymm(month, "month");
        byte[] code = Tiering.cStringOrNull(tier, "tier");
        if (months < 0) {
            throw new IllegalArgumentException("`months` " + months + " is negative: 0 means the rules' validity");
        }
        Pointer x = handle.enter();
        try {
            Tiering.check(CrmtLibrary.C.crmt_extract_push_grant(x, t, row, id, m, code, months));
        } finally {
            handle.exit();
        }
        return this;
    }

    /**
     * Adds a special VIP revocation (撤销), applied with the evaluation of {@code month}.
     *
     * @throws IllegalArgumentException when the table or id holds a NUL, or the row is negative
     * @throws TieringException.Argument for a month outside 0001-01..9999-11
     */
    public Extract revoke(String table, long row, String customerId, YearMonth month) {
        byte[] t = Tiering.cString(table, "table");
        Tiering.row(row, "row");
        byte[] id = Tiering.cString(customerId, "customerId");
        int m = Tiering.yyyymm(month, "month");
        Pointer x = handle.enter();
        try {
            Tiering.check(CrmtLibrary.C.crmt_extract_push_revoke(x, t, row, id, m));
        } finally {
            handle.exit();
        }
        return this;
    }

    /** The lock-guarded native handle (see the class comment). */
    NativeHandle nativeHandle() {
        return handle;
    }

    /**
     * Frees the native extract once the call in progress (from any thread) has returned; later calls
     * throw {@link IllegalStateException}. Idempotent and safe from any thread.
     */
    @Override
    public void close() {
        handle.close();
    }
}
