package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * The native arguments of the library's calls, built from Java values: a customer
 * ({@code crmt_customer}), arrays of C strings, of bytes and of longs, and a batch's customers as
 * columns. Strings are checked by {@link Tiering} (no NUL) as they are copied; the caller keeps the
 * returned memory reachable for the call.
 */
final class NativeArgs {
    private NativeArgs() {}

    /** The native {@code crmt_customer}; the returned memory keeps the strings alive. */
    static Memory[] customer(Customer c) {
        Memory id = Tiering.nativeString(c.id(), "customer.id");
        Memory entity = c.legalEntity() == null ? null : Tiering.nativeString(c.legalEntity(), "customer.legalEntity");
        Memory s = new Memory(24);
        s.setPointer(0, id);
        s.setPointer(8, entity);
        s.setInt(16, c.kind() == Customer.Kind.CORPORATE ? 1 : 0);
        return new Memory[] {s, id, entity};
    }

    /**
     * A native array of C strings ({@code const char *const *}), each checked by
     * {@link Tiering#cString} and named {@code what[i]}; {@code keep} keeps them alive.
     */
    static Memory strings(List<String> values, String what, List<Memory> keep) {
        Memory array = new Memory((long) Native.POINTER_SIZE * Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) {
            Memory m = Tiering.nativeString(values.get(i), what + "[" + i + "]");
            keep.add(m);
            array.setPointer((long) i * Native.POINTER_SIZE, m);
        }
        return array;
    }

    /** A batch's customers as native columns ({@code crmt_batch_customers} and its arrays). */
    static final class Columns {
        final Memory struct;
        /** The arrays the struct points to, kept reachable with it. */
        final Memory[] arrays;

        private Columns(Memory struct, Memory[] arrays) {
            this.struct = struct;
            this.arrays = arrays;
        }

        static Columns of(List<Customer> customers) {
            int n = customers.size();
            ByteArrayOutputStream ids = new ByteArrayOutputStream(n * 12);
            ByteArrayOutputStream entities = new ByteArrayOutputStream();
            long[] idOffsets = new long[n + 1];
            long[] entityOffsets = new long[n + 1];
            byte[] kinds = new byte[Math.max(n, 1)];
            boolean anyEntity = false;
            for (int i = 0; i < n; i++) {
                Customer c = customers.get(i);
                ids.writeBytes(Tiering.noNul(c.id(), "customers[" + i + "].id"));
                idOffsets[i + 1] = ids.size();
                if (c.legalEntity() != null) {
                    anyEntity = true;
                    entities.writeBytes(Tiering.noNul(c.legalEntity(), "customers[" + i + "].legalEntity"));
                }
                entityOffsets[i + 1] = entities.size();
                kinds[i] = (byte) (c.kind() == Customer.Kind.CORPORATE ? 1 : 0);
            }
            Memory idMem = bytes(ids.toByteArray());
            Memory idOff = longs(idOffsets);
            Memory entMem = anyEntity ? bytes(entities.toByteArray()) : null;
            Memory entOff = anyEntity ? longs(entityOffsets) : null;
            Memory kindMem = bytes(kinds);
            Memory struct = new Memory(48);
            struct.setLong(0, n);
            struct.setPointer(8, idMem);
            struct.setPointer(16, idOff);
            struct.setPointer(24, entMem);
            struct.setPointer(32, entOff);
            struct.setPointer(40, kindMem);
            return new Columns(struct, new Memory[] {idMem, idOff, entMem, entOff, kindMem});
        }
    }

    private static Memory bytes(byte[] b) {
        Memory m = new Memory(Math.max(b.length, 1));
        m.write(0, b, 0, b.length);
        return m;
    }

    static Memory longs(long[] v) {
        Memory m = new Memory(8L * Math.max(v.length, 1));
        m.write(0, v, 0, v.length);
        return m;
    }
}
