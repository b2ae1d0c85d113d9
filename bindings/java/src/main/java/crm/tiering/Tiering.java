package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.YearMonth;
import java.util.Objects;

/** Library facts and the conversions shared by the binding's classes. */
public final class Tiering {
    /** The ABI version this binding was written for ({@code CRMT_ABI_VERSION}). */
    public static final int ABI_VERSION = 3;

    /** {@code CRMT_NO_AMOUNT}: "no amount" in fen fields. */
    static final long NO_AMOUNT = Long.MIN_VALUE;

    private Tiering() {}

    /** The native library's version, such as {@code "0.1.0"}. */
    public static String version() {
        return CrmtLibrary.C.crmt_version().getString(0, "UTF-8");
    }

    /**
     * Raises a panic inside the native library's panic boundary, to test an embedder's error handling.
     *
     * @throws TieringException.Internal always
     */
    public static void selftestPanic() {
        check(CrmtLibrary.C.crmt_selftest_panic());
    }

    static void check(int rc) {
        if (rc != 0) {
            throw TieringException.fromLastError(rc);
        }
    }

    /** {@code CRMT_INVALID_MONTH}. */
    static final int INVALID_MONTH = 4;
    /** {@code CRMT_INVALID_ARGUMENT}. */
    static final int INVALID_ARGUMENT = 5;

    /**
     * A month as the C ABI takes it ({@code year * 100 + month}), refusing months outside
     * 0001-01..9999-11 <em>before</em> computing it: {@code YearMonth} years run to ±999,999,999,
     * and {@code year * 100} would overflow an {@code int} onto another month (42951697-01 would
     * be 2024-05). 9999-12 has no next month and cannot be evaluated. Months from 0001-01 to
     * 1899-12 go to the library, which refuses them as the spec says (1900-01 is its first month),
     * with the same exception.
     *
     * @param what the argument's name, for the message
     * @throws TieringException.Argument code {@code CRMT_INVALID_MONTH}, field {@code month}
     */
    static int yyyymm(YearMonth m, String what) {
        Objects.requireNonNull(m, what);
        int year = m.getYear();
        int month = m.getMonthValue();
        if (year < 1 || year > 9999 || (year == 9999 && month == 12)) {
            throw new TieringException.Argument(INVALID_MONTH, "`" + what + "` " + m
                    + " is not a month that can be evaluated: months run from 0001-01 to 9999-11 (9999-12 has no"
                    + " next month; the library's first month is 1900-01)", "", "month", null);
        }
        return year * 100 + month;
    }

    /**
     * A row number (a {@code uint64_t} natively): negative rows are refused rather than shown as
     * 18446744073709551615.
     */
    static long row(long row, String what) {
        if (row < 0) {
            throw new IllegalArgumentException("`" + what + "` " + row + " is negative: rows are 0 or more");
        }
        return row;
    }

    static YearMonth month(int yyyymm) {
        return yyyymm == 0 ? null : YearMonth.of(yyyymm / 100, yyyymm % 100);
    }

    static BigDecimal amount(long fen) {
        return fen == NO_AMOUNT ? null : BigDecimal.valueOf(fen, 2);
    }

    /** An amount in fen; amounts with more than two decimals are refused, never rounded. */
    static long fen(BigDecimal amount) {
        try {
            return amount.setScale(2).unscaledValue().longValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("amount " + amount.toPlainString()
                    + " is not a whole number of fen (at most two decimals) within 64 bits", e);
        }
    }

    /**
     * The UTF-8 bytes of a string, refusing what UTF-8 cannot hold: a lone surrogate (which
     * {@link String#getBytes} would silently turn into {@code ?}, making another id).
     *
     * @param what the argument's name, for the message
     * @throws IllegalArgumentException for a lone surrogate
     */
    static byte[] utf8(String s, String what) {
        Objects.requireNonNull(s, what);
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && k + 1 < s.length() && Character.isLowSurrogate(s.charAt(k + 1))) {
                    k++;
                } else {
                    throw new IllegalArgumentException("`" + what + "` holds a lone surrogate (U+"
                            + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT) + ") at index " + k
                            + ": it is not text UTF-8 can hold, so it is refused");
                }
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * NUL-terminated UTF-8, for every string the C library reads as a C string (ids, legal
     * entities, tier codes, table names, headers, cells, component codes). A string holding a NUL
     * is refused: the library would read it cut at the NUL ({@code "c1\u0000other"} would be the
     * customer {@code c1}).
     *
     * @param what the argument's name, for the message
     * @throws IllegalArgumentException for a NUL or a lone surrogate
     * @throws NullPointerException for null
     */
    static byte[] cString(String s, String what) {
        byte[] b = noNul(s, what);
        return java.util.Arrays.copyOf(b, b.length + 1);
    }

    /**
     * The UTF-8 of an id or a legal entity that the library takes with a length rather than as a
     * C string (the batch's columns), refused as {@link #cString} refuses it: one rule for ids
     * whichever way they cross.
     */
    static byte[] noNul(String s, String what) {
        Objects.requireNonNull(s, what);
        int nul = s.indexOf('\0');
        if (nul >= 0) {
            throw new IllegalArgumentException("`" + what + "` holds a NUL character (U+0000) at index " + nul
                    + ": the C library would read it cut there, so it is refused");
        }
        return utf8(s, what);
    }

    /** As {@link #cString(String, String)}, null for null. */
    static byte[] cStringOrNull(String s, String what) {
        return s == null ? null : cString(s, what);
    }

    static Memory nativeString(String s, String what) {
        byte[] b = cString(s, what);
        Memory m = new Memory(b.length);
        m.write(0, b, 0, b.length);
        return m;
    }

    /** Reads a library-owned buffer and frees it. */
    static byte[] takeBuffer(PointerByReference ref) {
        Pointer buf = ref.getValue();
        try {
            long len = CrmtLibrary.C.crmt_buffer_len(buf);
            return CrmtLibrary.C.crmt_buffer_data(buf).getByteArray(0, Math.toIntExact(len));
        } finally {
            CrmtLibrary.C.crmt_buffer_free(buf);
        }
    }

    interface TextWriter {
        int write(byte[] buf, long len, LongByReference written);
    }

    /** Calls a {@code (buf, len, &written)} function, growing the buffer when too small. */
    static String text(TextWriter w) {
        byte[] buf = new byte[512];
        LongByReference written = new LongByReference();
        int rc = w.write(buf, buf.length, written);
        if (rc == 20) { // CRMT_BUFFER_TOO_SMALL
            buf = new byte[Math.toIntExact(written.getValue()) + 1];
            w.write(buf, buf.length, written);
        }
        return new String(buf, 0, (int) Math.min(written.getValue(), buf.length - 1), StandardCharsets.UTF_8);
    }

    static String code(Pointer p) {
        return p == null ? "" : p.getString(0, "UTF-8");
    }
}
