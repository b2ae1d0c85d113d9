package crm.tiering;

import com.sun.jna.Memory;
import java.util.List;
import java.util.Objects;

/**
 * Values of measures a rule book declares besides AUM (SPEC §19.1, such as {@code loan_balance} or
 * {@code points}), given beside totals: one column per measure, for the records (customers) of a
 * call ({@code crmt_measure_columns}). Record {@code i}'s value of measure {@code j} is
 * {@code valuesFen[j * count + i]} in fen, where {@code count} is the call's number of records;
 * {@link RuleBook#NO_AMOUNT} gives no value (the measure's {@code absent} applies, as for a measure
 * not named). A code the rule book declares in no version, or that names no measure, refuses the
 * call ({@link TieringException} with the category {@code input}, the field naming the code).
 *
 * <p>Used by {@link RuleBook#evaluateBatch(java.time.YearMonth, List, long[], MeasureColumns,
 * BatchStates, int)} and {@link Extract#addTotals(String, long, int, byte[], long[], byte[], long[],
 * byte[], int[], long[], MeasureColumns)}. Immutable: the codes are copied; the values array is
 * the caller's, read during each call that uses it.
 */
public final class MeasureColumns {
    private final List<String> codes;
    private final long[] valuesFen;

    /**
     * Measure columns.
     *
     * @param codes the measure codes, one per column
     * @param valuesFen the columns one after the other, each with one value per record in fen
     */
    public MeasureColumns(List<String> codes, long[] valuesFen) {
        this.codes = List.copyOf(Objects.requireNonNull(codes, "codes"));
        this.valuesFen = Objects.requireNonNull(valuesFen, "valuesFen");
    }

    /** The measure codes, one per column. */
    public List<String> codes() {
        return codes;
    }

    /**
     * The native {@code crmt_measure_columns} for {@code count} records; {@code keep} keeps the
     * memory it points to alive.
     *
     * @throws IndexOutOfBoundsException when {@code valuesFen} holds fewer than
     *     {@code codes.size() * count} values
     */
    Memory struct(int count, List<Memory> keep) {
        long needed = (long) codes.size() * count;
        if (valuesFen.length < needed) {
            throw new IndexOutOfBoundsException("`valuesFen` has " + valuesFen.length + " values for "
                    + codes.size() + " measures x " + count + " records");
        }
        Memory names = codes.isEmpty() ? null : NativeArgs.strings(codes, "measures", keep);
        Memory values = NativeArgs.longs(valuesFen);
        keep.add(values);
        if (names != null) {
            keep.add(names);
        }
        Memory m = new Memory(24);
        m.setLong(0, codes.size());
        m.setPointer(8, names);
        m.setPointer(16, values);
        keep.add(m);
        return m;
    }
}
