package crm.tiering;

import com.sun.jna.Pointer;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * A native handle and the lock that guards it: the binding's thread model in one place.
 *
 * <ul>
 *   <li>An <em>exclusive</em> handle (every handle but the rule book's: the header says they are
 *       "used by one thread at a time") is locked for the whole of every call: calls from several
 *       threads are serialised, never concurrent.
 *   <li>A <em>shared</em> handle (the rule book, immutable natively) is held by calls in shared
 *       mode: any number of calls run at once.
 *   <li>{@link #close} takes the lock exclusively, so it waits for the calls in progress, frees the
 *       handle once and marks it closed: later calls throw {@link IllegalStateException}; closing
 *       again does nothing, from any thread.
 *   <li>A call that uses several handles locks them in one global order, {@link #RULE_BOOK},
 *       {@link #PORTFOLIO_STATES}, {@link #EXTRACT}, {@link #PORTFOLIO_RUN}, {@link #BATCH_STATES},
 *       {@link #CONTRIBUTION} ({@link #enter(NativeHandle...)} sorts them), and no code of the binding takes a handle of
 *       a lower rank while it holds one of a higher rank: two calls cannot wait for each other.
 * </ul>
 *
 * The locks are reentrant; waiting is not interruptible (a native call is short compared with an
 * interrupt's purpose, and an interrupted wait would leave a call half done).
 */
final class NativeHandle {
    static final int RULE_BOOK = 0;
    static final int PORTFOLIO_STATES = 1;
    static final int EXTRACT = 2;
    static final int PORTFOLIO_RUN = 3;
    static final int BATCH_STATES = 4;
    static final int CONTRIBUTION = 5;

    private final String what;
    private final String closedMessage;
    private final int rank;
    private final boolean shared;
    private final Consumer<Pointer> free;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** Written only under the write lock, read under either lock. */
    private Pointer pointer;

    /**
     * @param what the object's name in messages, such as "the portfolio states"
     * @param closedMessage the message of a call after close, such as "the portfolio states are closed"
     * @param rank the place of the handle's kind in the global lock order
     * @param shared whether calls may use the handle concurrently (the rule book)
     * @param pointer the live native handle
     * @param free frees it, once
     */
    NativeHandle(String what, String closedMessage, int rank, boolean shared, Pointer pointer,
            Consumer<Pointer> free) {
        this.what = what;
        this.closedMessage = closedMessage;
        this.rank = rank;
        this.shared = shared;
        this.pointer = pointer;
        this.free = free;
    }

    /**
     * Locks the handle for a call (shared or exclusive as the handle is) and returns the native
     * pointer; pair it with {@link #exit()} in a {@code finally}.
     *
     * @throws IllegalStateException when the handle is closed (nothing stays locked)
     */
    Pointer enter() {
        if (shared) {
            lock.readLock().lock();
        } else {
            lock.writeLock().lock();
        }
        Pointer p = pointer;
        if (p == null) {
            exit();
            throw new IllegalStateException(closedMessage);
        }
        return p;
    }

    /** Unlocks what {@link #enter()} locked. */
    void exit() {
        if (shared) {
            lock.readLock().unlock();
        } else {
            lock.writeLock().unlock();
        }
    }

    /**
     * Locks several handles in the global order and returns their pointers in the order given;
     * pair it with {@link #exit(NativeHandle...)}. Null entries are skipped (their pointer is null).
     *
     * @throws IllegalStateException when one is closed (nothing stays locked)
     */
    static Pointer[] enter(NativeHandle... handles) {
        NativeHandle[] order = handles.clone();
        java.util.Arrays.sort(order, NativeHandle::compareRank);
        int locked = 0;
        try {
            for (NativeHandle h : order) {
                if (h != null) {
                    h.enter();
                }
                locked++;
            }
        } finally {
            if (locked < order.length) {
                for (int k = locked - 1; k >= 0; k--) {
                    if (order[k] != null) {
                        order[k].exit();
                    }
                }
            }
        }
        Pointer[] out = new Pointer[handles.length];
        for (int k = 0; k < handles.length; k++) {
            out[k] = handles[k] == null ? null : handles[k].pointer;
        }
        return out;
    }

    /** Unlocks what {@link #enter(NativeHandle...)} locked. */
    static void exit(NativeHandle... handles) {
        for (int k = handles.length - 1; k >= 0; k--) {
            if (handles[k] != null) {
                handles[k].exit();
            }
        }
    }

    private static int compareRank(NativeHandle a, NativeHandle b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : -1) : 1;
        }
        return Integer.compare(a.rank, b.rank);
    }

    /**
     * Waits for the calls in progress, frees the handle and marks it closed. Idempotent; safe from
     * any thread.
     *
     * @throws IllegalStateException when the calling thread is itself inside a call on this shared
     *     handle (waiting would never end)
     */
    void close() {
        if (shared && lock.getReadHoldCount() > 0) {
            throw new IllegalStateException("cannot close " + what + " from inside a call that uses it");
        }
        lock.writeLock().lock();
        try {
            Pointer p = pointer;
            pointer = null;
            if (p != null) {
                free.accept(p);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Whether a call (of any thread) holds the lock now: a snapshot, for the tests. */
    boolean isLocked() {
        return lock.isWriteLocked() || lock.getReadLockCount() > 0;
    }

    @Override
    public String toString() {
        return what;
    }
}
