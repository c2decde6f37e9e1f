package dev.edge;

/** Receives generated text as it is produced, token by token. */
@FunctionalInterface
public interface TokenCallback {
    /**
     * Called for each generated token, on the thread that called {@code generate}.
     *
     * @param text the text this token completes: usually its piece, but empty when the token
     *     ends in the middle of a UTF-8 character (the whole character then comes with a later
     *     token)
     * @param token the token id
     * @return {@code true} to go on, {@code false} to stop the generation (it then ends
     *     normally). An exception thrown here also stops it and propagates out of {@code
     *     generate}.
     */
    boolean onToken(String text, int token);
}
