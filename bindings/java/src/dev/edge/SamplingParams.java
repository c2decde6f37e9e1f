package dev.edge;

/**
 * How to choose tokens ({@code edge_sampling_params}). A new instance holds libedge's
 * defaults ({@code edge_sampling_default_params()}: llama.cpp's — temperature 0.8, top-k 40,
 * top-p 0.95, min-p 0.05, no penalties, a random seed, at most 256 tokens); the setters
 * return {@code this}.
 */
public final class SamplingParams {
    /** The {@code seed} that asks for a new random seed at each call ({@code EDGE_DEFAULT_SEED}). */
    public static final long DEFAULT_SEED = -1L; // u64::MAX

    // Read by the JNI shim by name: keep the names and types in step with edge_jni.c.
    float temperature;
    int topK;
    float topP;
    float minP;
    float repeatPenalty;
    long seed;
    int maxTokens;
    int repeatLastN;
    float frequencyPenalty;
    float presencePenalty;

    /** libedge's defaults. */
    public SamplingParams() {
        Native.samplingDefaults(this);
    }

    /** Temperature; 0 is greedy decoding (the most likely token, the lowest id among equals). */
    public SamplingParams temperature(float temperature) {
        this.temperature = temperature;
        return this;
    }

    /** Keep the {@code topK} most likely tokens; 0 keeps all. */
    public SamplingParams topK(int topK) {
        this.topK = topK;
        return this;
    }

    /** Keep the most likely tokens whose probabilities add up to {@code topP}; 1 keeps all. */
    public SamplingParams topP(float topP) {
        this.topP = topP;
        return this;
    }

    /** Drop tokens less likely than {@code minP} times the most likely one; 0 keeps all. */
    public SamplingParams minP(float minP) {
        this.minP = minP;
        return this;
    }

    /** Penalty for tokens among the last {@code repeatLastN}; 1 is off. */
    public SamplingParams repeatPenalty(float repeatPenalty) {
        this.repeatPenalty = repeatPenalty;
        return this;
    }

    /**
     * The same seed, model, context and parameters give the same tokens; {@link #DEFAULT_SEED}
     * takes a new random seed at each call. Read as unsigned 64 bits.
     */
    public SamplingParams seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** Most tokens to generate; negative: until an end-of-generation token or a full context. */
    public SamplingParams maxTokens(int maxTokens) {
        this.maxTokens = maxTokens;
        return this;
    }

    /** How many of the last tokens the penalties look at; 0 turns them off. */
    public SamplingParams repeatLastN(int repeatLastN) {
        this.repeatLastN = repeatLastN;
        return this;
    }

    /** Subtracted from a logit once per occurrence of its token in the window; 0 is off. */
    public SamplingParams frequencyPenalty(float frequencyPenalty) {
        this.frequencyPenalty = frequencyPenalty;
        return this;
    }

    /** Subtracted from a logit once if its token occurs in the window; 0 is off. */
    public SamplingParams presencePenalty(float presencePenalty) {
        this.presencePenalty = presencePenalty;
        return this;
    }

    /** The temperature. */
    public float temperature() {
        return temperature;
    }

    /** The top-k bound. */
    public int topK() {
        return topK;
    }

    /** The top-p bound. */
    public float topP() {
        return topP;
    }

    /** The min-p bound. */
    public float minP() {
        return minP;
    }

    /** The repetition penalty. */
    public float repeatPenalty() {
        return repeatPenalty;
    }

    /** The seed (unsigned 64 bits). */
    public long seed() {
        return seed;
    }

    /** The token budget. */
    public int maxTokens() {
        return maxTokens;
    }

    /** The penalty window. */
    public int repeatLastN() {
        return repeatLastN;
    }

    /** The frequency penalty. */
    public float frequencyPenalty() {
        return frequencyPenalty;
    }

    /** The presence penalty. */
    public float presencePenalty() {
        return presencePenalty;
    }
}
