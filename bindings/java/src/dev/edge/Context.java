package dev.edge;

import java.util.Objects;

/**
 * One sequence being evaluated by a model ({@code edge_context}): its KV cache, the tokens in
 * it and the logits of the last one. Create it with {@link Model#newContext}.
 *
 * <p>Used by one thread at a time: the methods are synchronized. {@link #cancel()} may be
 * called from any thread to stop a running generation; {@link #close()} from another thread
 * stops it too, then frees the context; {@link #close()} from inside the callback frees it
 * when the generation has returned. Using a closed context throws {@link
 * IllegalStateException}. Failures throw {@link EdgeException}.
 */
public final class Context implements AutoCloseable {
    private long handle;
    private boolean inGenerate;
    private boolean closeRequested;
    private volatile boolean closing;
    private volatile boolean cancelled;

    Context(long handle) {
        this.handle = handle;
    }

    private long live() {
        if (handle == 0) {
            throw new IllegalStateException("the context is closed");
        }
        return handle;
    }

    /**
     * Generates text after {@code prompt} (special-token text parsed; BOS added where the
     * model asks when the context is empty), after what the context already holds: call
     * {@link #reset()} to start over. Each token goes to {@code callback} as it is produced.
     * Generation ends at an end-of-generation token, after {@code maxTokens} tokens, when the
     * context is full, or when the callback returns false; {@link #stopReason()} says which.
     *
     * @throws EdgeException with {@link Status#CONTEXT_FULL} when the prompt does not fit
     *     (the context is then unchanged)
     */
    public synchronized void generate(String prompt, SamplingParams params, TokenCallback callback) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(callback, "callback");
        long h = live();
        if (inGenerate) {
            throw new IllegalStateException("generate called from inside this context's callback");
        }
        cancelled = false;
        inGenerate = true;
        try {
            Native.generate(h, Model.utf8(prompt), params, new Sink(this, callback));
        } finally {
            inGenerate = false;
            if (closeRequested) {
                free();
            }
        }
    }

    /** As {@link #generate(String, SamplingParams, TokenCallback)}, returning the whole text. */
    public String generate(String prompt, SamplingParams params) {
        StringBuilder out = new StringBuilder();
        generate(prompt, params, (text, token) -> {
            out.append(text);
            return true;
        });
        return out.toString();
    }

    /** Stops the generation running on this context at its next token (from any thread). */
    public void cancel() {
        cancelled = true;
    }

    /**
     * Evaluates {@code tokens} after those in the context.
     *
     * @throws EdgeException with {@link Status#CONTEXT_FULL} when they do not fit (the context
     *     is then unchanged)
     */
    public synchronized void decode(int[] tokens) {
        Objects.requireNonNull(tokens, "tokens");
        Native.decode(live(), tokens);
    }

    /** The logits after the last evaluated token (a copy), or {@code null} before any. */
    public synchronized float[] logits() {
        return Native.logits(live());
    }

    /** Forgets every token. */
    public synchronized void reset() {
        Native.contextReset(live());
    }

    /** The number of positions of the context. */
    public synchronized int nCtx() {
        return Native.contextNCtx(live());
    }

    /** The number of positions used. */
    public synchronized int nPast() {
        return Native.contextNPast(live());
    }

    /** Why the last generation ended. */
    public synchronized StopReason stopReason() {
        return StopReason.fromCode(Native.contextStopReason(live()));
    }

    /** Stops a running generation, then frees the context. Idempotent. */
    @Override
    public void close() {
        closing = true;
        synchronized (this) {
            if (inGenerate) {
                // Called from the token callback: free when generate returns.
                closeRequested = true;
                return;
            }
            free();
        }
    }

    private void free() {
        long h = handle;
        handle = 0;
        if (h != 0) {
            Native.contextFree(h);
        }
    }

    /** Receives the tokens from the JNI shim and hands them to the user's callback. */
    static final class Sink {
        private final Context context;
        private final TokenCallback callback;

        Sink(Context context, TokenCallback callback) {
            this.context = context;
            this.callback = callback;
        }

        /** Called by the shim for each token; false stops the generation. */
        boolean onPiece(byte[] piece, int token) {
            if (context.closing || context.cancelled) {
                return false;
            }
            boolean go = callback.onToken(Model.text(piece), token);
            return go && !context.closing && !context.cancelled;
        }
    }
}
