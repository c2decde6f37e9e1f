package dev.edge;

/**
 * The JNI shim ({@code libedge_jni}, from {@code jni/edge_jni.c}) over libedge. Handles are
 * the C pointers as {@code long}; the classes around this one never pass a freed or zero
 * handle. Strings cross as UTF-8 byte arrays (JNI's own string functions use a modified
 * UTF-8 that differs for NUL and for characters outside the Basic Multilingual Plane).
 * Failures throw {@link EdgeException}.
 */
final class Native {
    /** System property naming the shim library file; else {@code edge_jni} on {@code java.library.path}. */
    static final String LIBRARY_PROPERTY = "edge.jni.library";

    static {
        String path = System.getProperty(LIBRARY_PROPERTY);
        if (path != null && !path.isEmpty()) {
            System.load(path);
        } else {
            System.loadLibrary("edge_jni");
        }
    }

    private Native() {}

    static native String version();

    static native void modelDefaults(ModelParams params);

    static native void contextDefaults(ContextParams params);

    static native void samplingDefaults(SamplingParams params);

    static native long modelLoad(byte[] path, ModelParams params);

    static native void modelFree(long model);

    static native int modelNVocab(long model);

    static native int modelNCtxTrain(long model);

    static native int modelNEmbd(long model);

    static native int modelNLayer(long model);

    /** The value as UTF-8, or null when the key is missing or holds an array. */
    static native byte[] modelMeta(long model, byte[] key);

    static native int modelMetaCount(long model);

    /** The key of entry {@code index}, or null. */
    static native byte[] modelMetaKey(long model, int index);

    /** The value of entry {@code index}, or null when it is an array. */
    static native byte[] modelMetaValue(long model, int index);

    static native int[] tokenize(long model, byte[] text, boolean addSpecial, boolean parseSpecial);

    static native byte[] tokenToPiece(long model, int token);

    static native byte[] detokenize(long model, int[] tokens, boolean removeSpecial, boolean unparseSpecial);

    static native int tokenBos(long model);

    static native int tokenEos(long model);

    static native boolean tokenIsEog(long model, int token);

    static native byte[] chatApplyTemplate(long model, byte[][] roles, byte[][] contents, boolean addGenerationPrompt);

    static native long contextNew(long model, ContextParams params);

    static native void contextFree(long ctx);

    static native void contextReset(long ctx);

    static native int contextNCtx(long ctx);

    static native int contextNPast(long ctx);

    static native int contextStopReason(long ctx);

    static native void decode(long ctx, int[] tokens);

    /** The logits of the last decoded token (a copy), or null before any decode. */
    static native float[] logits(long ctx);

    /** Runs edge_generate; each token goes to {@code sink.onPiece(byte[], int)}. */
    static native void generate(long ctx, byte[] prompt, SamplingParams params, Context.Sink sink);
}
