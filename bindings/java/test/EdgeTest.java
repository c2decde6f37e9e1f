import dev.edge.CacheType;
import dev.edge.Context;
import dev.edge.ContextParams;
import dev.edge.EdgeException;
import dev.edge.Model;
import dev.edge.ModelParams;
import dev.edge.SamplingParams;
import dev.edge.Status;
import dev.edge.StopReason;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tests of the Java binding on the real SmolLM2 model against llama.cpp's reference outputs.
 * A plain program (no test framework): exits with status 1 when a check fails.
 *
 * <pre>java -Djava.library.path=DIR EdgeTest MODEL.gguf smollm2.json CHAT_GOLDEN_DIR</pre>
 */
public final class EdgeTest {
    private static int checks;
    private static final List<String> failures = new ArrayList<>();

    private static String modelPath;
    private static Map<String, Object> reference;
    private static Path chatGolden;

    interface Body {
        void run() throws Exception;
    }

    static void check(boolean ok, String what) {
        checks++;
        if (!ok) {
            failures.add(what);
            System.out.println("  FAILED: " + what);
        }
    }

    static void test(String name, Body body) {
        System.out.println("test " + name);
        try {
            body.run();
        } catch (Throwable t) {
            failures.add(name + ": " + t);
            System.out.println("  FAILED with " + t);
            t.printStackTrace(System.out);
        }
    }

    static <T extends Throwable> T expectThrows(Class<T> type, Body body, String what) {
        try {
            body.run();
        } catch (Throwable t) {
            check(type.isInstance(t), what + ": expected " + type.getSimpleName() + ", got " + t);
            return type.isInstance(t) ? type.cast(t) : null;
        }
        check(false, what + ": expected " + type.getSimpleName() + ", nothing thrown");
        return null;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o, String key) {
        return (List<Object>) ((Map<String, Object>) o).get(key);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    static int[] ints(Object o) {
        List<?> l = (List<?>) o;
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Double) l.get(i)).intValue();
        }
        return out;
    }

    /** Greedy steps a correct runtime must reproduce: up to 16, before the first margin < 0.5. */
    static int greedySteps(Map<String, Object> prompt) {
        List<Object> margins = list(prompt, "greedy_margin");
        int limit = Math.min(16, list(prompt, "greedy").size());
        int n = 0;
        while (n < limit && (Double) margins.get(n) >= 0.5) {
            n++;
        }
        return n;
    }

    /**
     * The text llama.cpp tokenized for a reference corpus line: its tools read their input with
     * C-style escapes processed (backslash n, r, t, quote, double quote, backslash, xNN; any
     * other backslash is kept), as the reference ids show (see
     * tests/tests/tokenizer_reference.rs).
     */
    static String asLlamaCppReadIt(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int i = 0;
        while (i < b.length) {
            if (b[i] != '\\' || i + 1 == b.length) {
                out.write(b[i++]);
                continue;
            }
            byte next = b[i + 1];
            int esc = next == 'n' ? '\n' : next == 'r' ? '\r' : next == 't' ? '\t'
                    : (next == '\'' || next == '"' || next == '\\') ? next : -1;
            if (esc >= 0) {
                out.write(esc);
            } else if (next == 'x' && i + 3 < b.length && isHex(b[i + 2]) && isHex(b[i + 3])) {
                out.write(Integer.parseInt(new String(b, i + 2, 2, StandardCharsets.US_ASCII), 16));
                i += 2;
            } else {
                out.write(b[i]);
                out.write(next);
            }
            i += 2;
        }
        return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }

    static boolean isHex(byte c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    static Map<String, Object> prompt(int i) {
        return map(list(reference, "prompts").get(i));
    }

    static SamplingParams greedy(int maxTokens) {
        return new SamplingParams().temperature(0).repeatPenalty(1).maxTokens(maxTokens);
    }

    static int[] generateTokens(Context ctx, String prompt, SamplingParams params) {
        List<Integer> got = new ArrayList<>();
        ctx.generate(prompt, params, (text, token) -> {
            if (token >= 0) {
                got.add(token);
            }
            return true;
        });
        return got.stream().mapToInt(Integer::intValue).toArray();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: EdgeTest MODEL.gguf smollm2.json CHAT_GOLDEN_DIR");
            System.exit(2);
        }
        modelPath = args[0];
        reference = map(Json.parse(new String(Files.readAllBytes(Paths.get(args[1])), StandardCharsets.UTF_8)));
        chatGolden = Paths.get(args[2]);

        test("version", () -> check(!Model.version().isEmpty(), "version is empty"));
        test("missing file is IO", EdgeTest::missingFile);
        test("corrupt files are FORMAT", EdgeTest::corruptFiles);
        test("progress callback cancels, and its exception propagates", EdgeTest::progress);
        try (Model model = new Model(modelPath, new ModelParams().nThreads(2))) {
            test("model facts", () -> modelFacts(model));
            test("tokenize equals llama.cpp", () -> tokenize(model));
            test("greedy generation equals llama.cpp", () -> greedyGeneration(model));
            test("KV cache types: q8_0 greedy equals llama.cpp's, narrow heads refused", () -> cacheTypes(model));
            test("callback returning false stops", () -> callbackStops(model));
            test("callback exception propagates", () -> callbackThrows(model));
            test("chat template and answer", () -> chat(model));
            test("decode, logits, full context", () -> contextFull(model));
            test("closed objects and null arguments", () -> closedAndNull(model));
            test("contexts on several threads", () -> threads(model));
            test("cancel and close from another thread", () -> cancelFromAnotherThread(model));
            test("context outlives its model", EdgeTest::contextOutlivesModel);
        }
        System.out.println(checks + " checks, " + failures.size() + " failures");
        if (!failures.isEmpty()) {
            for (String f : failures) {
                System.out.println("FAILED: " + f);
            }
            System.exit(1);
        }
        System.out.println("java binding tests passed");
    }

    static void missingFile() throws IOException {
        Path dir = Files.createTempDirectory("edge-java-test");
        EdgeException e = expectThrows(EdgeException.class,
                () -> new Model(dir.resolve("absent.gguf").toString()).close(), "missing file");
        if (e != null) {
            check(e.status() == Status.IO, "missing file status " + e.status());
            check(e.getMessage().contains("absent.gguf"), "message names the file: " + e.getMessage());
        }
        Files.delete(dir);
    }

    static void corruptFiles() throws IOException {
        Path dir = Files.createTempDirectory("edge-java-test");
        Path junk = dir.resolve("junk.gguf");
        Files.write(junk, "this is not a GGUF file at all".repeat(100).getBytes(StandardCharsets.UTF_8));
        EdgeException e = expectThrows(EdgeException.class, () -> new Model(junk.toString()).close(), "junk");
        check(e != null && e.status() == Status.FORMAT, "junk file status " + (e == null ? null : e.status()));

        byte[] head = Arrays.copyOf(Files.readAllBytes(Paths.get(modelPath)), 1 << 20);
        Path truncated = dir.resolve("truncated.gguf");
        Files.write(truncated, head);
        e = expectThrows(EdgeException.class, () -> new Model(truncated.toString()).close(), "truncated");
        check(e != null && e.status() == Status.FORMAT, "truncated file status " + (e == null ? null : e.status()));
        Files.delete(junk);
        Files.delete(truncated);
        Files.delete(dir);
    }

    static void progress() {
        List<Float> seen = new ArrayList<>();
        EdgeException e = expectThrows(EdgeException.class, () -> new Model(modelPath,
                new ModelParams().progress(f -> {
                    seen.add(f);
                    return false;
                })).close(), "cancel");
        check(e != null && e.status() == Status.CANCELLED, "cancelled status");
        check(seen.size() == 1, "progress called once before cancelling: " + seen);

        IllegalStateException mine = new IllegalStateException("from the callback");
        IllegalStateException got = expectThrows(IllegalStateException.class, () -> new Model(modelPath,
                new ModelParams().progress(f -> {
                    throw mine;
                })).close(), "throwing progress");
        check(got == mine, "the callback's own exception propagates");

        List<Float> all = new ArrayList<>();
        try (Model m = new Model(modelPath, new ModelParams().progress(f -> all.add(f)))) {
            check(m.nVocab() > 0, "loaded with a progress callback");
            check(!all.isEmpty() && all.get(all.size() - 1) == 1.0f, "progress reaches 1: " + all);
        }
    }

    static void modelFacts(Model model) {
        // SmolLM2-135M: vocabulary of 49152 tokens, trained with 8192 positions (config.json).
        check(model.nVocab() == 49152, "n_vocab " + model.nVocab());
        check(model.nCtxTrain() == 8192, "n_ctx_train " + model.nCtxTrain());
        check("llama".equals(model.meta("general.architecture")), "architecture");
        check(model.meta("no.such.key") == null, "missing key is null");
        String template = model.meta("tokenizer.chat_template");
        check(template != null && template.contains("<|im_start|>"), "chat template in metadata");
        Map<String, String> meta = model.metadata();
        check("llama".equals(meta.get("general.architecture")), "metadata map");
        check(!meta.containsKey("tokenizer.ggml.tokens"), "arrays are left out of the map");
    }

    static void tokenize(Model model) {
        for (Object o : list(reference, "tokenizer")) {
            Map<String, Object> c = map(o);
            String text = asLlamaCppReadIt((String) c.get("text"));
            check(Arrays.equals(model.tokenize(text), ints(c.get("ids_default"))), "tokenize " + text);
            check(Arrays.equals(model.tokenize(text, false, true), ints(c.get("ids_no_bos"))),
                    "tokenize (no BOS) " + text);
        }
        check(new String(model.tokenToPiece(905), StandardCharsets.UTF_8).equals(" world"), "piece of 905");
        check(model.detokenize(new int[] {19556, 905}).equals("Hello world"), "detokenize");
        expectThrows(EdgeException.class, () -> model.tokenToPiece(-5), "piece of a bad token");
    }

    static void greedyGeneration(Model model) {
        try (Context ctx = model.newContext(new ContextParams().nCtx(256))) {
            int compared = 0;
            for (Object o : list(reference, "prompts")) {
                Map<String, Object> p = map(o);
                int n = greedySteps(p);
                if (n == 0) {
                    continue;
                }
                ctx.reset();
                int[] got = generateTokens(ctx, (String) p.get("text"), greedy(n));
                int[] want = Arrays.copyOf(ints(p.get("greedy")), n);
                check(Arrays.equals(got, want), "greedy " + p.get("text") + ": " + Arrays.toString(got)
                        + " vs llama.cpp " + Arrays.toString(want));
                compared++;
            }
            check(compared > 0, "some prompt compared");
            Map<String, Object> p = prompt(0);
            ctx.reset();
            String text = ctx.generate((String) p.get("text"), greedy(greedySteps(p)));
            check(!text.isEmpty() && ((String) p.get("greedy_text")).startsWith(text), "greedy text " + text);
            check(ctx.stopReason() == StopReason.MAX_TOKENS, "stop reason " + ctx.stopReason());
        }
    }

    /**
     * A q8_0 KV cache against llama.cpp with the same cache types (tests/golden/kv-cache, next to
     * the chat goldens), and q8_0 refused on the tiny qwen2 model (tests/golden/qwen), whose heads
     * are 16 wide.
     */
    static void cacheTypes(Model model) throws IOException {
        ContextParams defaults = new ContextParams();
        check(defaults.typeK() == CacheType.F16 && defaults.typeV() == CacheType.F16, "f16 by default");
        check(CacheType.fromName("q8_0") == CacheType.Q8_0 && CacheType.fromName("F16") == CacheType.F16,
                "cache type names");
        check(CacheType.Q8_0.code() == 1 && CacheType.Q8_0.cliName().equals("q8_0"), "q8_0 code and name");
        expectThrows(IllegalArgumentException.class, () -> CacheType.fromName("q4_0"), "unknown cache type");
        expectThrows(NullPointerException.class, () -> new ContextParams().typeK(null), "null cache type");

        Path golden = chatGolden.getParent();
        for (String name : new String[] {"smollm2-k_q8_0-v_q8_0", "smollm2-k_q8_0-v_f16"}) {
            Map<String, Object> kv = map(Json.parse(new String(
                    Files.readAllBytes(golden.resolve("kv-cache").resolve(name + ".json")), StandardCharsets.UTF_8)));
            ContextParams params = new ContextParams().nCtx(512) // llama.cpp's
                    .typeK(CacheType.fromName((String) kv.get("cache_type_k")))
                    .typeV(CacheType.fromName((String) kv.get("cache_type_v")));
            try (Context ctx = model.newContext(params)) {
                for (Object o : list(kv, "prompts")) {
                    Map<String, Object> p = map(o);
                    int n = greedySteps(p);
                    ctx.reset();
                    int[] got = generateTokens(ctx, (String) p.get("text"), greedy(n));
                    int[] want = Arrays.copyOf(ints(p.get("greedy")), n);
                    check(Arrays.equals(got, want), name + " greedy " + p.get("id") + ": " + Arrays.toString(got)
                            + " vs llama.cpp " + Arrays.toString(want));
                }
            }
        }

        try (Model qwen = new Model(golden.resolve("qwen").resolve("qwen2-tiny.f32.gguf").toString())) {
            EdgeException e = expectThrows(EdgeException.class,
                    () -> qwen.newContext(new ContextParams().nCtx(16).typeV(CacheType.Q8_0)).close(),
                    "q8_0 values with heads of 16");
            check(e != null && e.status() == Status.INVALID_ARGUMENT, "q8_0 with heads of 16: status");
            check(e != null && e.getMessage().contains("type_v = EDGE_CACHE_Q8_0"), "the message names type_v");
            try (Context ctx = qwen.newContext(new ContextParams().nCtx(16).typeK(CacheType.F16))) {
                check(ctx.nCtx() == 16, "an f16 cache on heads of 16");
            }
        }
    }

    static void callbackStops(Model model) {
        try (Context ctx = model.newContext(new ContextParams().nCtx(256))) {
            AtomicInteger calls = new AtomicInteger();
            ctx.generate((String) prompt(0).get("text"), greedy(100), (text, token) -> calls.incrementAndGet() < 3);
            check(calls.get() == 3, "callback called " + calls.get() + " times, not 3");
            check(ctx.stopReason() == StopReason.CALLBACK, "stop reason " + ctx.stopReason());

            // close() from inside the callback: the generation stops, the context is freed after it.
            AtomicInteger more = new AtomicInteger();
            Context[] self = {ctx};
            ctx.generate("Once upon a time", greedy(100), (text, token) -> {
                more.incrementAndGet();
                self[0].close();
                return true;
            });
            check(more.get() == 1, "no token after close(): " + more.get());
            expectThrows(IllegalStateException.class, ctx::nPast, "context closed from its callback");
        }
    }

    static void callbackThrows(Model model) {
        try (Context ctx = model.newContext(new ContextParams().nCtx(256))) {
            RuntimeException mine = new RuntimeException("from the token callback");
            AtomicInteger calls = new AtomicInteger();
            RuntimeException got = expectThrows(RuntimeException.class,
                    () -> ctx.generate((String) prompt(0).get("text"), greedy(50), (text, token) -> {
                        calls.incrementAndGet();
                        throw mine;
                    }), "throwing callback");
            check(got == mine, "the callback's own exception propagates: " + got);
            check(calls.get() == 1, "no call after the exception: " + calls.get());
            // The context still works.
            Map<String, Object> p = prompt(0);
            ctx.reset();
            int n = greedySteps(p);
            check(Arrays.equals(generateTokens(ctx, (String) p.get("text"), greedy(n)),
                    Arrays.copyOf(ints(p.get("greedy")), n)), "greedy after an exception");
            // Re-entering the context from its own callback is refused, not a crash.
            ctx.reset();
            IllegalStateException reentry = expectThrows(IllegalStateException.class,
                    () -> ctx.generate("Hello", greedy(4), (text, token) -> {
                        ctx.generate("again", greedy(1), (t, k) -> true);
                        return true;
                    }), "re-entrant generate");
            check(reentry != null, "re-entrant generate refused");
        }
    }

    static void chat(Model model) throws IOException {
        String expected = new String(Files.readAllBytes(chatGolden.resolve("smollm2-system-user.txt")),
                StandardCharsets.UTF_8);
        String got = model.applyChatTemplate(new String[] {"system", "user"},
                new String[] {"You are terse.", "What is 2+2?"}, true);
        check(got.equals(expected), "chat template vs jinja2: " + got);

        Map<String, Object> p = prompt(4);
        String[] roles = {"system", "user"};
        String[] contents = {"You are a helpful AI assistant named SmolLM, trained by Hugging Face",
            "What is the boiling point of water at sea level?"};
        String rendered = model.applyChatTemplate(roles, contents, true);
        check(rendered.equals(p.get("text")), "rendered conversation equals the reference prompt");
        try (Context ctx = model.newContext(new ContextParams().nCtx(256))) {
            int n = Math.max(1, greedySteps(p));
            String answer = ctx.generate(rendered, greedy(n));
            check(!answer.isEmpty() && ((String) p.get("greedy_text")).startsWith(answer), "chat answer " + answer);
        }
        expectThrows(IllegalArgumentException.class,
                () -> model.applyChatTemplate(new String[] {"user"}, new String[0], true), "lengths differ");
    }

    static void contextFull(Model model) {
        int[] tokens = ints(prompt(1).get("tokens")); // 13 tokens
        try (Context ctx = model.newContext(new ContextParams().nCtx(16))) {
            check(ctx.nCtx() == 16, "n_ctx " + ctx.nCtx());
            check(ctx.logits() == null, "no logits before a decode");
            ctx.decode(tokens);
            float[] before = ctx.logits();
            check(before != null && before.length == model.nVocab(), "logits length");
            check(ctx.nPast() == tokens.length, "n_past " + ctx.nPast());
            EdgeException e = expectThrows(EdgeException.class, () -> ctx.decode(tokens), "overfull decode");
            check(e != null && e.status() == Status.CONTEXT_FULL, "context full status");
            check(Arrays.equals(ctx.logits(), before), "context unchanged after CONTEXT_FULL");
            ctx.reset();
            ctx.decode(ints(prompt(0).get("tokens")));
            float[] logits = ctx.logits();
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            List<Object> positions = list(prompt(0), "positions");
            List<Object> top = list(positions.get(positions.size() - 1), "top");
            int llamaBest = ((Double) ((List<?>) top.get(0)).get(0)).intValue();
            check(best == llamaBest, "top-1 logit " + best + " vs llama.cpp " + llamaBest);

            ctx.reset();
            EdgeException tooLong = expectThrows(EdgeException.class,
                    () -> ctx.generate("word ".repeat(40), greedy(4), (t, k) -> true), "prompt longer than the context");
            check(tooLong != null && tooLong.status() == Status.CONTEXT_FULL, "long prompt status");
            ctx.reset();
            int[] got = generateTokens(ctx, (String) prompt(2).get("text"), greedy(100)); // 7 tokens
            check(ctx.stopReason() == StopReason.CONTEXT_FULL, "stops at a full context: " + ctx.stopReason());
            check(got.length > 0 && got.length <= 16 - 7, "tokens until full: " + got.length);
        }
    }

    static void closedAndNull(Model model) {
        Model m = new Model(modelPath);
        Context ctx = m.newContext(new ContextParams().nCtx(32));
        m.close();
        m.close();
        check(m.isClosed(), "closed");
        expectThrows(IllegalStateException.class, () -> m.tokenize("x"), "tokenize after close");
        expectThrows(IllegalStateException.class, m::newContext, "context after close");
        ctx.close();
        ctx.close();
        expectThrows(IllegalStateException.class, () -> ctx.decode(new int[] {1}), "decode after close");
        expectThrows(NullPointerException.class, () -> model.tokenize(null), "null text");
        expectThrows(NullPointerException.class, () -> new Model(null), "null path");
        try (Context c = model.newContext(new ContextParams().nCtx(32))) {
            expectThrows(NullPointerException.class, () -> c.generate("x", null, (t, k) -> true), "null params");
            expectThrows(NullPointerException.class, () -> c.decode(null), "null tokens");
            EdgeException e = expectThrows(EdgeException.class, () -> c.decode(new int[0]), "empty decode");
            check(e != null && e.status() == Status.INVALID_ARGUMENT, "empty decode status");
            e = expectThrows(EdgeException.class, () -> c.decode(new int[] {model.nVocab()}), "token out of range");
            check(e != null && e.status() == Status.INVALID_ARGUMENT, "bad token status");
            e = expectThrows(EdgeException.class,
                    () -> c.generate("x", new SamplingParams().topP(7f), (t, k) -> true), "bad top_p");
            check(e != null && e.status() == Status.INVALID_ARGUMENT, "bad sampling status");
        }
        EdgeException e = expectThrows(EdgeException.class,
                () -> model.newContext(new ContextParams().nCtx(-3)).close(), "negative n_ctx");
        check(e != null && e.status() == Status.INVALID_ARGUMENT, "negative n_ctx status");
    }

    static void threads(Model model) throws InterruptedException {
        Map<String, Object> p = prompt(0);
        int n = greedySteps(p);
        int[] want = Arrays.copyOf(ints(p.get("greedy")), n);
        int[][] got = new int[2][];
        Thread[] ts = new Thread[2];
        for (int t = 0; t < ts.length; t++) {
            final int k = t;
            ts[t] = new Thread(() -> {
                try (Context ctx = model.newContext(new ContextParams().nCtx(64))) {
                    got[k] = generateTokens(ctx, (String) p.get("text"), greedy(n));
                }
            });
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        for (int[] g : got) {
            check(Arrays.equals(g, want), "greedy on a thread: " + Arrays.toString(g));
        }
    }

    static void cancelFromAnotherThread(Model model) throws InterruptedException {
        String prompt = (String) prompt(2).get("text");
        for (boolean close : new boolean[] {false, true}) {
            Context ctx = model.newContext(new ContextParams().nCtx(256));
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
            AtomicInteger calls = new AtomicInteger();
            Throwable[] failure = {null};
            Thread worker = new Thread(() -> {
                try {
                    ctx.generate(prompt, greedy(200), (text, token) -> {
                        calls.incrementAndGet();
                        started.countDown();
                        return true;
                    });
                } catch (Throwable t) {
                    failure[0] = t;
                }
            });
            worker.start();
            started.await();
            if (close) {
                ctx.close(); // waits for the generation, which it stops
                int seen = calls.get();
                check(seen < 200, "close() stopped the generation after " + seen + " tokens");
            } else {
                ctx.cancel();
            }
            worker.join();
            check(failure[0] == null, "generation ended without an exception: " + failure[0]);
            if (!close) {
                check(calls.get() < 200, "cancel() stopped the generation after " + calls.get() + " tokens");
                check(ctx.stopReason() == StopReason.CALLBACK, "stop reason after cancel: " + ctx.stopReason());
                ctx.close();
            }
        }
    }

    static void contextOutlivesModel() {
        Map<String, Object> p = prompt(0);
        int n = greedySteps(p);
        Context ctx;
        try (Model m = new Model(modelPath)) {
            ctx = m.newContext(new ContextParams().nCtx(64));
        }
        try (Context c = ctx) {
            check(Arrays.equals(generateTokens(c, (String) p.get("text"), greedy(n)),
                    Arrays.copyOf(ints(p.get("greedy")), n)), "greedy after the model was closed");
        }
    }
}
