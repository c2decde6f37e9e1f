package dev.edge;

/** Why the last generation on a context ended ({@code edge_stop_reason}). */
public enum StopReason {
    /** No generation yet, the last one failed, or the context was reset. */
    NONE,
    /** The model produced an end-of-generation token. */
    EOG,
    /** {@code maxTokens} tokens were generated. */
    MAX_TOKENS,
    /** Every position of the context is used. */
    CONTEXT_FULL,
    /** The callback returned false, or the generation was cancelled. */
    CALLBACK;

    static StopReason fromCode(int code) {
        StopReason[] all = values();
        return code >= 0 && code < all.length ? all[code] : NONE;
    }
}
