package crm.tiering;

/**
 * How soon an account manager must act on an alert (SPEC §11.1), in the order of a work-list,
 * most urgent first: {@link #HIGH}, {@link #MEDIUM}, {@link #LOW} ({@link #rank()}). The codes and
 * Chinese names are the library's ({@code crmt_severity_code}, {@code crmt_severity_name_zh});
 * an alert's severity is {@link Alert#severity()}.
 */
public enum Severity {
    /** {@code high} 高: act this month ({@code CRMT_SEVERITY_HIGH}). */
    HIGH,
    /** {@code medium} 中: act soon ({@code CRMT_SEVERITY_MEDIUM}). */
    MEDIUM,
    /** {@code low} 低: worth a call ({@code CRMT_SEVERITY_LOW}). */
    LOW;

    /** The library's codes and names, by C value (the ordinal), read once. */
    private static final class Texts {
        static final String[] CODES = new String[3];
        static final String[] ZH = new String[3];

        static {
            for (Severity s : Severity.values()) {
                CODES[s.ordinal()] = Tiering.code(CrmtLibrary.C.crmt_severity_code(s.ordinal()));
                ZH[s.ordinal()] = Tiering.code(CrmtLibrary.C.crmt_severity_name_zh(s.ordinal()));
            }
        }
    }

    /** The stable code: {@code high}, {@code medium} or {@code low}. */
    public String code() {
        return Texts.CODES[ordinal()];
    }

    /** The Chinese display name: 高, 中 or 低. */
    public String zh() {
        return Texts.ZH[ordinal()];
    }

    /** The place in a work-list: 0 for {@link #HIGH}, 1 for {@link #MEDIUM}, 2 for {@link #LOW}. */
    public int rank() {
        return ordinal();
    }

    /** The severity of a {@code crmt_severity} value. */
    static Severity fromC(int value) {
        Severity[] all = values();
        if (value < 0 || value >= all.length) {
            throw new IllegalStateException("the library returned crmt_severity " + value + ", which this binding"
                    + " does not know");
        }
        return all[value];
    }
}
