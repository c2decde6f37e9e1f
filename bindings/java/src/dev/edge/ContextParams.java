package dev.edge;

/**
 * How to create a context ({@code edge_context_params}). A new instance holds libedge's
 * defaults ({@code edge_context_default_params()}); the setters return {@code this}.
 */
public final class ContextParams {
    // Read by the JNI shim by name: keep the names and types in step with edge_jni.c.
    int nCtx;
    int nThreads;

    /** libedge's defaults: {@code nCtx} 0 (the model's training context, at most 4096). */
    public ContextParams() {
        Native.contextDefaults(this);
    }

    /** Positions in the context, prompt and generated tokens together; 0: the default. */
    public ContextParams nCtx(int nCtx) {
        this.nCtx = nCtx;
        return this;
    }

    /** Reserved by libedge (threads are set per model); must be {@code >= 0}. */
    public ContextParams nThreads(int nThreads) {
        this.nThreads = nThreads;
        return this;
    }

    /** Positions in the context (0: the default). */
    public int nCtx() {
        return nCtx;
    }

    /** Threads (reserved). */
    public int nThreads() {
        return nThreads;
    }
}
