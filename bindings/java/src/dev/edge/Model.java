package dev.edge;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A GGUF model loaded by libedge ({@code edge_model}): weights, tokenizer, chat template.
 *
 * <p>Thread-safe: any number of threads may tokenize, read metadata and create contexts at
 * once. {@link #close()} waits for calls running on other threads, then frees the model;
 * contexts created from it stay usable (they keep what they need of it). Using a closed model
 * throws {@link IllegalStateException}. Failures throw {@link EdgeException}.
 */
public final class Model implements AutoCloseable {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle;

    /** Loads the model at {@code path} with the default {@link ModelParams}. */
    public Model(String path) {
        this(path, new ModelParams());
    }

    /**
     * Loads the model at {@code path}.
     *
     * @throws EdgeException with {@link Status#IO} for a missing or unreadable file, {@link
     *     Status#FORMAT} for a file that is not a valid model, {@link Status#UNSUPPORTED} for
     *     one edge cannot run, {@link Status#CANCELLED} when the progress callback returned
     *     false
     */
    public Model(String path, ModelParams params) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(params, "params");
        handle = Native.modelLoad(utf8(path), params);
    }

    /** The version of libedge, e.g. {@code "0.1.0"}. */
    public static String version() {
        return Native.version();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] utf8) {
        return utf8 == null ? null : new String(utf8, StandardCharsets.UTF_8);
    }

    /** Takes the read lock and returns the live handle; the caller unlocks. */
    private long acquire() {
        lock.readLock().lock();
        if (handle == 0) {
            lock.readLock().unlock();
            throw new IllegalStateException("the model is closed");
        }
        return handle;
    }

    private void release() {
        lock.readLock().unlock();
    }

    /** Frees the model (contexts made from it stay usable). Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            long h = handle;
            handle = 0;
            if (h != 0) {
                Native.modelFree(h);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        lock.readLock().lock();
        try {
            return handle == 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Creates a context (a KV cache) with the default {@link ContextParams}. */
    public Context newContext() {
        return newContext(new ContextParams());
    }

    /** Creates a context (a KV cache) for this model. */
    public Context newContext(ContextParams params) {
        Objects.requireNonNull(params, "params");
        long h = acquire();
        try {
            return new Context(Native.contextNew(h, params));
        } finally {
            release();
        }
    }

    /** The number of tokens in the vocabulary (the number of logits). */
    public int nVocab() {
        long h = acquire();
        try {
            return Native.modelNVocab(h);
        } finally {
            release();
        }
    }

    /** The context length the model was trained with. */
    public int nCtxTrain() {
        long h = acquire();
        try {
            return Native.modelNCtxTrain(h);
        } finally {
            release();
        }
    }

    /** The width of the embeddings. */
    public int nEmbd() {
        long h = acquire();
        try {
            return Native.modelNEmbd(h);
        } finally {
            release();
        }
    }

    /** The number of transformer layers. */
    public int nLayer() {
        long h = acquire();
        try {
            return Native.modelNLayer(h);
        } finally {
            release();
        }
    }

    /**
     * The metadata value under {@code key} as text (numbers in decimal), or {@code null} when
     * the key is missing or holds an array.
     */
    public String meta(String key) {
        Objects.requireNonNull(key, "key");
        long h = acquire();
        try {
            return text(Native.modelMeta(h, utf8(key)));
        } finally {
            release();
        }
    }

    /** Every metadata entry that is not an array, as text, in file order. */
    public Map<String, String> metadata() {
        long h = acquire();
        try {
            Map<String, String> out = new LinkedHashMap<>();
            int n = Native.modelMetaCount(h);
            for (int i = 0; i < n; i++) {
                byte[] key = Native.modelMetaKey(h, i);
                byte[] value = Native.modelMetaValue(h, i);
                if (key != null && value != null) {
                    out.put(text(key), text(value));
                }
            }
            return out;
        } finally {
            release();
        }
    }

    /** The tokens of {@code text}, BOS added as the model asks, special-token text parsed. */
    public int[] tokenize(String text) {
        return tokenize(text, true, true);
    }

    /**
     * The tokens of {@code text}.
     *
     * @param addSpecial add BOS (and EOS) where the model asks for them
     * @param parseSpecial turn special-token text such as {@code <|im_start|>} into its token
     */
    public int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
        Objects.requireNonNull(text, "text");
        long h = acquire();
        try {
            return Native.tokenize(h, utf8(text), addSpecial, parseSpecial);
        } finally {
            release();
        }
    }

    /** The bytes of one token (a piece may be part of a UTF-8 character). */
    public byte[] tokenToPiece(int token) {
        long h = acquire();
        try {
            return Native.tokenToPiece(h, token);
        } finally {
            release();
        }
    }

    /** The text of {@code tokens}, as llama.cpp's detokenizer writes it (special tokens as text). */
    public String detokenize(int[] tokens) {
        return detokenize(tokens, false, true);
    }

    /**
     * The text of {@code tokens}.
     *
     * @param removeSpecial drop a leading BOS and a trailing EOS where the model adds them
     * @param unparseSpecial write control tokens as their text (else drop them)
     */
    public String detokenize(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        Objects.requireNonNull(tokens, "tokens");
        long h = acquire();
        try {
            return text(Native.detokenize(h, tokens, removeSpecial, unparseSpecial));
        } finally {
            release();
        }
    }

    /** The beginning-of-sequence token, or -1. */
    public int tokenBos() {
        long h = acquire();
        try {
            return Native.tokenBos(h);
        } finally {
            release();
        }
    }

    /** The end-of-sequence token, or -1. */
    public int tokenEos() {
        long h = acquire();
        try {
            return Native.tokenEos(h);
        } finally {
            release();
        }
    }

    /** Whether {@code token} ends a generation (EOS, end of turn). */
    public boolean tokenIsEog(int token) {
        long h = acquire();
        try {
            return Native.tokenIsEog(h, token);
        } finally {
            release();
        }
    }

    /**
     * A conversation rendered with the model's chat template.
     *
     * @param roles the role of each message ({@code "system"}, {@code "user"}, {@code
     *     "assistant"})
     * @param contents the text of each message, as many as {@code roles}
     * @param addGenerationPrompt open the assistant's turn at the end
     * @throws EdgeException with {@link Status#INVALID_ARGUMENT} when the template refuses
     *     the conversation
     */
    public String applyChatTemplate(String[] roles, String[] contents, boolean addGenerationPrompt) {
        Objects.requireNonNull(roles, "roles");
        Objects.requireNonNull(contents, "contents");
        if (roles.length != contents.length) {
            throw new IllegalArgumentException(
                    roles.length + " roles but " + contents.length + " contents");
        }
        byte[][] r = new byte[roles.length][];
        byte[][] c = new byte[contents.length][];
        for (int i = 0; i < roles.length; i++) {
            r[i] = utf8(Objects.requireNonNull(roles[i], "roles[" + i + "]"));
            c[i] = utf8(Objects.requireNonNull(contents[i], "contents[" + i + "]"));
        }
        long h = acquire();
        try {
            return text(Native.chatApplyTemplate(h, r, c, addGenerationPrompt));
        } finally {
            release();
        }
    }
}
