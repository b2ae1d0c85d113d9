package crm.tiering;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The hot calls of the portfolio month with JNA direct mapping ({@link Native#register}): static
 * native methods bound once, primitive arrays passed without per-call reflection or conversion
 * objects. {@code size_t} is {@code long} (64-bit only; {@link CrmtLibrary} checks it at load).
 * Package-private.
 */
final class CrmtDirect {
    static {
        // Loading CrmtLibrary first checks the platform and the ABI version.
        if (CrmtLibrary.C == null) {
            throw new UnsatisfiedLinkError("libcrm_tiering_ffi did not load");
        }
        Native.register(CrmtDirect.class, "crm_tiering_ffi");
    }

    private CrmtDirect() {}

    static native int crmt_extract_push_totals_fen(Pointer extract, byte[] table, long firstRow, long count, byte[] ids,
            long[] idOffsets, byte[] legalEntities, long[] legalEntityOffsets, byte[] kinds, int[] months,
            long[] amountsFen);

    static native int crmt_extract_push_totals_with_measures_fen(Pointer extract, Pointer book, byte[] table,
            long firstRow, long count, byte[] ids, long[] idOffsets, byte[] legalEntities, long[] legalEntityOffsets,
            byte[] kinds, int[] months, long[] amountsFen, Pointer measures);

    static native int crmt_evaluate_portfolio_with_options(Pointer book, Pointer portfolio, int first, int last,
            Pointer extract, Pointer options, Pointer result);

    static native Pointer crmt_portfolio_result_evaluated(Pointer result, long[] count);

    static native Pointer crmt_portfolio_result_events(Pointer result, long[] count);

    static native Pointer crmt_portfolio_result_alerts(Pointer result, long[] count);

    static native Pointer crmt_portfolio_result_errors(Pointer result, long[] count);
}
