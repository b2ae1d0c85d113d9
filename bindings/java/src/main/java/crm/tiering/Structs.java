package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads arrays of {@code crmt_event} and {@code crmt_alert} in one copy each. The layouts are
 * those of the C header (checked against JNA's layout rules by the tests).
 */
final class Structs {
    static final int EVENT_SIZE = 160;
    static final int ALERT_SIZE = 136;
    /** Where a {@code crmt_alert}'s {@code kind} and {@code months_left} are. */
    private static final int ALERT_KIND_AT = 4;
    private static final int ALERT_MONTHS_LEFT_AT = 36;
    private static final int CODE_SIZE = 17;
    private static final int MEASURE_CODE_SIZE = 41;
    private static final int WINDOW_CODE_SIZE = 16;

    private Structs() {}

    /** Tier codes seen so far (a rule book has a handful): decoded once, shared after. */
    private static final class Codes {
        private byte[][] raw = new byte[0][];
        private String[] text = new String[0];

        String get(ByteBuffer b, int at) {
            return get(b, at, CODE_SIZE);
        }

        String get(ByteBuffer b, int at, int size) {
            int len = 0;
            while (len < size && b.get(at + len) != 0) {
                len++;
            }
            if (len == 0) {
                return null;
            }
            search:
            for (int k = 0; k < raw.length; k++) {
                byte[] r = raw[k];
                if (r.length != len) {
                    continue;
                }
                for (int j = 0; j < len; j++) {
                    if (r[j] != b.get(at + j)) {
                        continue search;
                    }
                }
                return text[k];
            }
            byte[] s = new byte[len];
            b.get(at, s);
            String t = new String(s, StandardCharsets.UTF_8);
            if (raw.length < 64) {
                raw = java.util.Arrays.copyOf(raw, raw.length + 1);
                text = java.util.Arrays.copyOf(text, text.length + 1);
                raw[raw.length - 1] = s;
                text[text.length - 1] = t;
            }
            return t;
        }
    }

    /** Months seen so far, by {@code yyyymm}. */
    private static final class Months {
        private final java.util.HashMap<Integer, java.time.YearMonth> seen = new java.util.HashMap<>();

        java.time.YearMonth get(int yyyymm) {
            return yyyymm == 0 ? null : seen.computeIfAbsent(yyyymm, Tiering::month);
        }
    }

    private static ByteBuffer read(Pointer p, long count, int size) {
        byte[] raw = p == null || count == 0 ? new byte[0] : p.getByteArray(0, Math.toIntExact(count * size));
        return ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
    }

    private static final String[] EVENT_CODES = new String[16];
    private static final String[] EVENT_ZH = new String[16];
    private static final String[] REASONS = new String[16];
    private static final String[] ALERT_CODES = new String[16];
    private static final String[] ALERT_ZH = new String[16];

    static {
        for (int i = 0; i < 16; i++) {
            EVENT_CODES[i] = Tiering.code(CrmtLibrary.C.crmt_event_kind_code(i));
            EVENT_ZH[i] = Tiering.code(CrmtLibrary.C.crmt_event_kind_name_zh(i));
            REASONS[i] = Tiering.code(CrmtLibrary.C.crmt_reason_code(i));
            ALERT_CODES[i] = Tiering.code(CrmtLibrary.C.crmt_alert_kind_code(i));
            ALERT_ZH[i] = Tiering.code(CrmtLibrary.C.crmt_alert_kind_name_zh(i));
        }
    }

    private static String at(String[] table, int i) {
        return i >= 0 && i < table.length ? table[i] : "";
    }

    static List<Event> events(Pointer p, long count) {
        ByteBuffer b = read(p, count, EVENT_SIZE);
        Codes codes = new Codes();
        Months months = new Months();
        List<Event> out = new ArrayList<>((int) count);
        for (int k = 0; k < count; k++) {
            int o = k * EVENT_SIZE;
            int kind = b.getInt(o + 4);
            out.add(new Event(b.getInt(o), at(EVENT_CODES, kind), at(EVENT_ZH, kind), at(REASONS, b.getInt(o + 8)),
                    months.get(b.getInt(o + 12)), months.get(b.getInt(o + 16)), codes.get(b, o + 20),
                    codes.get(b, o + 37), Tiering.amount(b.getLong(o + 56)), Tiering.amount(b.getLong(o + 64)),
                    months.get(b.getInt(o + 72)), b.getInt(o + 76), Tiering.amount(b.getLong(o + 80)),
                    codes.get(b, o + 96, MEASURE_CODE_SIZE), Tiering.amount(b.getLong(o + 88)),
                    codes.get(b, o + 137, WINDOW_CODE_SIZE)));
        }
        return out;
    }

    /**
     * The severity of an alert of kind {@code kind} (a code) with {@code monthsLeft}, asked of the
     * library ({@code crmt_alert_severity}) with a {@code crmt_alert} holding the two.
     */
    static Severity severity(String kind, Integer monthsLeft) {
        int value = -1;
        for (int i = 0; i < ALERT_CODES.length && value < 0; i++) {
            if (!ALERT_CODES[i].isEmpty() && ALERT_CODES[i].equals(kind)) {
                value = i;
            }
        }
        if (value < 0) {
            throw new TieringException.Argument(Tiering.INVALID_ARGUMENT, "alert kind `" + kind
                    + "` is not an alert kind of the library", "", "kind", null);
        }
        if (monthsLeft != null && monthsLeft < 0) {
            throw new TieringException.Argument(Tiering.INVALID_ARGUMENT, "`monthsLeft` is " + monthsLeft
                    + ": a count of months is 0 or more, or null for none", "", "monthsLeft", null);
        }
        try (Memory alert = new Memory(ALERT_SIZE)) {
            alert.clear();
            alert.setInt(ALERT_KIND_AT, value);
            alert.setInt(ALERT_MONTHS_LEFT_AT, monthsLeft == null ? -1 : monthsLeft);
            IntByReference out = new IntByReference();
            Tiering.check(CrmtLibrary.C.crmt_alert_severity(alert, out));
            return Severity.fromC(out.getValue());
        }
    }

    static List<Alert> alerts(Pointer p, long count) {
        ByteBuffer b = read(p, count, ALERT_SIZE);
        Codes codes = new Codes();
        Months months = new Months();
        List<Alert> out = new ArrayList<>((int) count);
        for (int k = 0; k < count; k++) {
            int o = k * ALERT_SIZE;
            int kind = b.getInt(o + ALERT_KIND_AT);
            int counted = b.getInt(o + 32);
            int left = b.getInt(o + ALERT_MONTHS_LEFT_AT);
            out.add(new Alert(b.getInt(o), at(ALERT_CODES, kind), at(ALERT_ZH, kind), months.get(b.getInt(o + 8)),
                    codes.get(b, o + 12), counted < 0 ? null : counted, left < 0 ? null : left,
                    Tiering.amount(b.getLong(o + 40)), Tiering.amount(b.getLong(o + 48)),
                    Tiering.amount(b.getLong(o + 56)), codes.get(b, o + 72, MEASURE_CODE_SIZE),
                    Tiering.amount(b.getLong(o + 64)), codes.get(b, o + 113, WINDOW_CODE_SIZE)));
        }
        return out;
    }
}
