package dev.edge;

/** The status codes of libedge ({@code edge_status} in {@code edge.h}). */
public enum Status {
    /** Success. */
    OK(0),
    /** A null or out-of-range argument, text that is not UTF-8, or a context already in use. */
    INVALID_ARGUMENT(1),
    /** A missing or unreadable file. */
    IO(2),
    /** A file that is not a valid model. */
    FORMAT(3),
    /** A valid file that edge cannot run (architecture, tensor type). */
    UNSUPPORTED(4),
    /** Memory could not be allocated. */
    OUT_OF_MEMORY(5),
    /** The tokens do not fit in what is left of the context. */
    CONTEXT_FULL(6),
    /** A callback asked to stop. */
    CANCELLED(7),
    /** A bug inside libedge (caught, not crashed on). */
    INTERNAL(8);

    private final int code;

    Status(int code) {
        this.code = code;
    }

    /** The numeric value of {@code edge_status}. */
    public int code() {
        return code;
    }

    /** The status with numeric value {@code code}; {@link #INTERNAL} for an unknown one. */
    public static Status fromCode(int code) {
        for (Status s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return INTERNAL;
    }
}
