package dev.edge;

import java.util.Objects;

/**
 * How to create a context ({@code edge_context_params}). A new instance holds libedge's
 * defaults ({@code edge_context_default_params()}); the setters return {@code this}.
 */
public final class ContextParams {
    // Read by the JNI shim by name: keep the names and types in step with edge_jni.c.
    int nCtx;
    int nThreads;
    int typeK;
    int typeV;

    /**
     * libedge's defaults: {@code nCtx} 0 (the model's training context, at most 4096), an f16
     * KV cache.
     */
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

    /** The element type of the cached keys (llama.cpp's {@code --cache-type-k}); default f16. */
    public ContextParams typeK(CacheType typeK) {
        this.typeK = Objects.requireNonNull(typeK, "typeK").code();
        return this;
    }

    /** The element type of the cached values (llama.cpp's {@code --cache-type-v}); default f16. */
    public ContextParams typeV(CacheType typeV) {
        this.typeV = Objects.requireNonNull(typeV, "typeV").code();
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

    /** The element type of the cached keys. */
    public CacheType typeK() {
        return CacheType.fromCode(typeK);
    }

    /** The element type of the cached values. */
    public CacheType typeV() {
        return CacheType.fromCode(typeV);
    }
}
