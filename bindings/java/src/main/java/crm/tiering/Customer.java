package crm.tiering;

import java.util.Objects;

/**
 * Who a customer is, for rule selection and error messages.
 *
 * @param id the customer id (客户号)
 * @param legalEntity the legal entity (法人机构号), or null
 * @param kind personal or corporate
 */
public record Customer(String id, String legalEntity, Kind kind) {
    /** Personal (个人) or corporate (对公). */
    public enum Kind {
        /** 个人客户. */
        PERSONAL,
        /** 对公客户. */
        CORPORATE
    }

    public Customer {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
    }

    /** A personal customer of no particular legal entity. */
    public static Customer personal(String id) {
        return new Customer(id, null, Kind.PERSONAL);
    }
}
