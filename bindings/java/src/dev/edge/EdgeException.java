package dev.edge;

import java.nio.charset.StandardCharsets;

/**
 * A libedge call failed: {@link #status()} says how, {@link #getMessage()} holds libedge's
 * message ({@code edge_last_error()}), which names the file, key or argument at fault.
 */
public class EdgeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Status status;
    private final int code;

    /** An exception for status {@code status} with {@code message}. */
    public EdgeException(Status status, String message) {
        super(message);
        this.status = status;
        this.code = status.code();
    }

    /** Called by the JNI shim: a numeric status and the UTF-8 bytes of the message. */
    EdgeException(int code, byte[] utf8Message) {
        super(utf8Message == null ? "" : new String(utf8Message, StandardCharsets.UTF_8));
        this.status = Status.fromCode(code);
        this.code = code;
    }

    /** What went wrong, as a status code. */
    public Status status() {
        return status;
    }

    /** The numeric {@code edge_status} libedge returned. */
    public int code() {
        return code;
    }

    @Override
    public String toString() {
        return "EdgeException(" + status + "): " + getMessage();
    }
}
