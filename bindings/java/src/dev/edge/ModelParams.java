package dev.edge;

/**
 * How to load a model ({@code edge_model_params}). A new instance holds libedge's defaults
 * ({@code edge_model_default_params()}); the setters return {@code this} for chaining.
 */
public final class ModelParams {
    // Read by the JNI shim by name: keep the names and types in step with edge_jni.c.
    boolean useMmap;
    int nThreads;
    ProgressCallback progress;

    /** libedge's defaults: memory-mapped, every core, no progress callback. */
    public ModelParams() {
        Native.modelDefaults(this);
    }

    /** Map the file into memory ({@code true}, default) or read it whole. */
    public ModelParams useMmap(boolean useMmap) {
        this.useMmap = useMmap;
        return this;
    }

    /** Threads for the model's matrix products; 0 (default) uses every core. */
    public ModelParams nThreads(int nThreads) {
        this.nThreads = nThreads;
        return this;
    }

    /** Called with the loading progress; it may cancel the load. {@code null}: none. */
    public ModelParams progress(ProgressCallback progress) {
        this.progress = progress;
        return this;
    }

    /** Whether the file is memory-mapped. */
    public boolean useMmap() {
        return useMmap;
    }

    /** Threads for the model's matrix products (0: every core). */
    public int nThreads() {
        return nThreads;
    }
}
