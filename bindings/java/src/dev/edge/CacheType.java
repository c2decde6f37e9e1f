package dev.edge;

import java.util.Locale;
import java.util.Objects;

/**
 * The element type of one side (keys or values) of a context's KV cache ({@code
 * edge_cache_type}), as llama.cpp's {@code --cache-type-k} / {@code --cache-type-v}. Set with
 * {@link ContextParams#typeK(CacheType)} and {@link ContextParams#typeV(CacheType)}.
 */
public enum CacheType {
    /** 16-bit floats, 2 bytes per value (the default). */
    F16(0, "f16"),
    /**
     * Blocks of 32 8-bit values with an f16 scale: about half the memory of f16. Needs a model
     * whose attention heads are a multiple of 32 wide (else {@link Status#INVALID_ARGUMENT}).
     */
    Q8_0(1, "q8_0");

    private final int code;
    private final String cliName;

    CacheType(int code, String cliName) {
        this.code = code;
        this.cliName = cliName;
    }

    /** The numeric value of {@code edge_cache_type}. */
    public int code() {
        return code;
    }

    /** The name on llama.cpp's and edge-run's command lines: {@code "f16"} or {@code "q8_0"}. */
    public String cliName() {
        return cliName;
    }

    /**
     * The type named {@code name} as on the command line ({@code "f16"}, {@code "q8_0"}; any
     * case).
     *
     * @throws IllegalArgumentException for any other name
     */
    public static CacheType fromName(String name) {
        Objects.requireNonNull(name, "name");
        String lower = name.toLowerCase(Locale.ROOT);
        for (CacheType t : values()) {
            if (t.cliName.equals(lower)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown KV cache type '" + name + "' (known: f16, q8_0)");
    }

    static CacheType fromCode(int code) {
        for (CacheType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalStateException("libedge returned an unknown edge_cache_type " + code);
    }
}
