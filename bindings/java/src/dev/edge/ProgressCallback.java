package dev.edge;

/** Receives the progress of a model load. */
@FunctionalInterface
public interface ProgressCallback {
    /**
     * Called while a model loads, on the loading thread.
     *
     * @param fraction the fraction done, from 0 to 1 (1 when the model is ready)
     * @return {@code true} to go on, {@code false} to cancel: the load then fails with {@link
     *     Status#CANCELLED}. An exception thrown here also cancels it and propagates.
     */
    boolean onProgress(float fraction);
}
