package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.YearMonth;

/** Library facts and the conversions shared by the binding's classes. */
public final class Tiering {
    /** The ABI version this binding was written for ({@code CRMT_ABI_VERSION}). */
    public static final int ABI_VERSION = 1;

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

    static int month(YearMonth m) {
        return m.getYear() * 100 + m.getMonthValue();
    }

    static int yyyymm(YearMonth m) {
        return m.getYear() * 100 + m.getMonthValue();
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

    /** NUL-terminated UTF-8. */
    static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[b.length + 1];
        System.arraycopy(b, 0, out, 0, b.length);
        return out;
    }

    static Memory nativeString(String s) {
        byte[] b = cString(s);
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
