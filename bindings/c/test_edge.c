/*
 * test_edge: a hostile caller of libedge, and a check of its results against references.
 *
 *   test_edge MODEL REFERENCE WORKDIR [--quick]
 *
 * MODEL is SmolLM2-135M-Instruct.Q4_1.gguf; REFERENCE is made by reference.py from
 * llama.cpp's outputs and jinja2's chat renderings; WORKDIR is a writable directory for
 * the broken files this program makes. --quick checks only a few reference cases (for
 * runs under valgrind or emulation). EDGE_TEST_THREADS sets the threads (default 2).
 *
 * Every misuse must come back as a status code or an error value with a message in
 * edge_last_error(); nothing may crash, and under valgrind nothing may read or write
 * out of bounds or leak. Exit status 0 when every check passed.
 */
#include "edge.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int n_checks = 0;
static int n_failures = 0;

#define CHECK(cond, what)                                                                   \
    do {                                                                                    \
        n_checks++;                                                                         \
        if (!(cond)) {                                                                      \
            n_failures++;                                                                   \
            fprintf(stderr, "FAIL %s:%d: %s (%s) [last error: %s]\n", __FILE__, __LINE__,  \
                    what, #cond, edge_last_error());                                        \
        }                                                                                   \
    } while (0)

/* A failure must leave a message; a success must leave none. */
#define HAS_ERROR() (edge_last_error() != NULL && edge_last_error()[0] != '\0')
#define NO_ERROR() (edge_last_error() != NULL && edge_last_error()[0] == '\0')

static int32_t n_threads = 2;
static int quick = 0;

/* Prints how long the previous section took (processor time), to see where a slow run
 * (valgrind, emulation) spends it. */
static void section(const char *name) {
    static clock_t start;
    static const char *current;
    clock_t now = clock();
    if (current) printf("  %-28s %.2f s\n", current, (double)(now - start) / CLOCKS_PER_SEC);
    fflush(stdout);
    current = name;
    start = now;
}
static const char *model_path;
static const char *work_dir;

/* ---- small helpers ---------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) { free(buf); buf = NULL; break; }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static char *read_prefix(const char *path, size_t len, size_t *got) {
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(len) : NULL;
    *got = buf ? fread(buf, 1, len, f) : 0;
    if (f) fclose(f);
    return buf;
}

static int write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t put = fwrite(data, 1, len, f);
    return fclose(f) == 0 && put == len;
}

static void join(char *out, size_t size, const char *dir, const char *name) {
    snprintf(out, size, "%s/%s", dir, name);
}

/* Decodes hex text ("-" = empty) into a new NUL-terminated string; *len gets its length. */
static char *unhex(const char *hex, size_t *len) {
    size_t n = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
    char *out = malloc(n + 1);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    out[n] = '\0';
    if (len) *len = n;
    return out;
}

/* Reads "<n> <id>..." from the token stream of strtok. Returns n, or -1. */
static int read_ids(int32_t *ids, int cap) {
    char *tok = strtok(NULL, " ");
    if (!tok) return -1;
    int n = atoi(tok);
    if (n < 0 || n > cap) return -1;
    for (int i = 0; i < n; i++) {
        tok = strtok(NULL, " ");
        if (!tok) return -1;
        ids[i] = (int32_t)atoi(tok);
    }
    return n;
}

static edge_model *load_model(void) {
    edge_model_params params = edge_model_default_params();
    params.n_threads = n_threads;
    edge_model *model = NULL;
    edge_status st = edge_model_load(model_path, &params, &model);
    CHECK(st == EDGE_OK && model != NULL, "the model loads");
    return model;
}

/* The edge_cache_type named as on llama.cpp's command line ("f16", "q8_0"); -1 for another. */
static int32_t cache_type(const char *name) {
    if (name && strcmp(name, "f16") == 0) return EDGE_CACHE_F16;
    if (name && strcmp(name, "q8_0") == 0) return EDGE_CACHE_Q8_0;
    return -1;
}

static edge_context *new_context_cache(edge_model *model, int32_t n_ctx, int32_t type_k,
                                       int32_t type_v) {
    edge_context_params params = edge_context_default_params();
    params.n_ctx = n_ctx;
    params.type_k = type_k;
    params.type_v = type_v;
    edge_context *ctx = NULL;
    edge_status st = edge_context_new(model, &params, &ctx);
    CHECK(st == EDGE_OK && ctx != NULL, "a context is created");
    return ctx;
}

static edge_context *new_context(edge_model *model, int32_t n_ctx) {
    return new_context_cache(model, n_ctx, EDGE_CACHE_F16, EDGE_CACHE_F16);
}

/* ---- loading ---------------------------------------------------------------------- */

typedef struct {
    int calls;
    int cancel_at; /* return false on this call (1-based); 0 = never */
    float last;
    int monotonic;
} progress_state;

static bool on_progress(float progress, void *user_data) {
    progress_state *p = user_data;
    p->calls++;
    if (progress < p->last || progress < 0.0f || progress > 1.0f) p->monotonic = 0;
    p->last = progress;
    return p->cancel_at == 0 || p->calls < p->cancel_at;
}

static void expect_load_failure(const char *path, edge_status expected, const char *what) {
    edge_model *model = (edge_model *)&n_checks; /* must be overwritten with NULL */
    edge_status st = edge_model_load(path, NULL, &model);
    CHECK(st == expected, what);
    CHECK(model == NULL, "a failed load stores NULL");
    CHECK(HAS_ERROR(), "a failed load leaves a message");
}

static void test_loading(void) {
    char path[4096];
    edge_model *model = (edge_model *)&n_checks;

    CHECK(edge_version() != NULL && edge_version()[0] != '\0', "edge_version");
    CHECK(edge_model_load(NULL, NULL, &model) == EDGE_ERR_INVALID_ARGUMENT, "NULL path");
    CHECK(model == NULL, "NULL path stores NULL");
    CHECK(HAS_ERROR(), "NULL path leaves a message");
    CHECK(edge_model_load(model_path, NULL, NULL) == EDGE_ERR_INVALID_ARGUMENT, "NULL out");

    join(path, sizeof path, work_dir, "does-not-exist.gguf");
    expect_load_failure(path, EDGE_ERR_IO, "a missing file is EDGE_ERR_IO");
    CHECK(strstr(edge_last_error(), "does-not-exist.gguf") != NULL, "the message names the file");
    expect_load_failure(work_dir, EDGE_ERR_IO, "a directory is EDGE_ERR_IO");

    static const char garbage[] = "this is not a GGUF file at all, just some text\n";
    join(path, sizeof path, work_dir, "garbage.gguf");
    CHECK(write_file(path, garbage, sizeof garbage - 1), "writing garbage.gguf");
    expect_load_failure(path, EDGE_ERR_FORMAT, "a text file is EDGE_ERR_FORMAT");

    /* GGUF v3, then an absurd tensor count and nothing else. */
    static const unsigned char bad_header[] = {'G', 'G', 'U', 'F', 3, 0, 0, 0,
                                               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                                               1, 0, 0, 0, 0, 0, 0, 0};
    join(path, sizeof path, work_dir, "bad-header.gguf");
    CHECK(write_file(path, bad_header, sizeof bad_header), "writing bad-header.gguf");
    expect_load_failure(path, EDGE_ERR_FORMAT, "a lying header is EDGE_ERR_FORMAT");

    join(path, sizeof path, work_dir, "empty.gguf");
    CHECK(write_file(path, "", 0), "writing empty.gguf");
    expect_load_failure(path, EDGE_ERR_FORMAT, "an empty file is EDGE_ERR_FORMAT");

    /* The real model cut in its tensor data, and in its metadata. */
    size_t size = 0;
    char *bytes = read_prefix(model_path, 8u << 20, &size);
    CHECK(bytes != NULL && size == (8u << 20), "reading the model's first 8 MiB");
    if (bytes) {
        join(path, sizeof path, work_dir, "truncated.gguf");
        CHECK(write_file(path, bytes, size), "writing truncated.gguf");
        expect_load_failure(path, EDGE_ERR_FORMAT, "a truncated model is EDGE_ERR_FORMAT");
        join(path, sizeof path, work_dir, "header-only.gguf");
        CHECK(write_file(path, bytes, 100000), "writing header-only.gguf");
        expect_load_failure(path, EDGE_ERR_FORMAT, "a model cut in its metadata is EDGE_ERR_FORMAT");
        free(bytes);
    }

    edge_model_params params = edge_model_default_params();
    params.n_threads = -1;
    CHECK(edge_model_load(model_path, &params, &model) == EDGE_ERR_INVALID_ARGUMENT,
          "negative n_threads");
    CHECK(model == NULL, "bad params store NULL");

    /* Cancel through the progress callback, at the first call and later on. */
    for (int mmap = 0; mmap <= 1; mmap++) {
        /* Without mmap the first calls come while the file is read; with it, the last one
         * (1.0) comes when everything is loaded. */
        for (int cancel_at = 1; cancel_at <= (mmap ? 6 : 2); cancel_at++) {
            progress_state p = {0, cancel_at, 0.0f, 1};
            params = edge_model_default_params();
            params.use_mmap = mmap;
            params.n_threads = n_threads;
            params.progress = on_progress;
            params.progress_user_data = &p;
            model = (edge_model *)&n_checks;
            edge_status st = edge_model_load(model_path, &params, &model);
            CHECK(st == EDGE_ERR_CANCELLED, "a progress callback returning false cancels");
            CHECK(model == NULL, "a cancelled load stores NULL");
            CHECK(p.calls == cancel_at, "no progress call after cancelling");
            CHECK(HAS_ERROR(), "a cancelled load leaves a message");
        }
    }

    /* A whole load reports increasing fractions up to 1, with and without mmap. */
    for (int mmap = 0; mmap <= 1; mmap++) {
        progress_state p = {0, 0, 0.0f, 1};
        params = edge_model_default_params();
        params.use_mmap = mmap;
        params.n_threads = n_threads;
        params.progress = on_progress;
        params.progress_user_data = &p;
        model = NULL;
        CHECK(edge_model_load(model_path, &params, &model) == EDGE_OK, "the model loads");
        CHECK(NO_ERROR(), "a success leaves no message");
        CHECK(p.calls >= 4 && p.monotonic && p.last == 1.0f, "progress goes from 0 to 1");
        edge_model_free(model);
    }
    edge_model_free(NULL);
}

/* ---- model, metadata, tokens ------------------------------------------------------- */

static void test_metadata(edge_model *model) {
    char buf[64];
    int32_t n = edge_model_meta_str(model, "general.architecture", buf, sizeof buf);
    CHECK(n == 5 && strcmp(buf, "llama") == 0, "general.architecture is llama");
    CHECK(NO_ERROR(), "a success leaves no message");

    memset(buf, 'x', sizeof buf);
    n = edge_model_meta_str(model, "general.architecture", buf, 3);
    CHECK(n == 5, "a too-small buffer still returns the full length");
    CHECK(buf[0] == 'l' && buf[1] == 'l' && buf[2] == '\0' && buf[3] == 'x',
          "a too-small buffer gets a NUL-terminated prefix, nothing past it");
    CHECK(edge_model_meta_str(model, "general.architecture", NULL, 0) == 5, "size query");
    memset(buf, 'x', sizeof buf);
    CHECK(edge_model_meta_str(model, "general.architecture", buf, 1) == 5 && buf[0] == '\0' &&
              buf[1] == 'x',
          "a one-byte buffer gets just the NUL");

    char ctx_len[32];
    CHECK(edge_model_meta_str(model, "llama.context_length", ctx_len, sizeof ctx_len) > 0 &&
              atoi(ctx_len) == edge_model_n_ctx_train(model),
          "n_ctx_train is llama.context_length");
    char n_embd[32];
    CHECK(edge_model_meta_str(model, "llama.embedding_length", n_embd, sizeof n_embd) > 0 &&
              atoi(n_embd) == edge_model_n_embd(model),
          "n_embd is llama.embedding_length");

    CHECK(edge_model_meta_str(model, "no.such.key", buf, sizeof buf) < 0, "a missing key");
    CHECK(HAS_ERROR(), "a missing key leaves a message");
    CHECK(edge_model_meta_str(model, "tokenizer.ggml.tokens", buf, sizeof buf) < 0,
          "an array value is refused");
    CHECK(edge_model_meta_str(model, NULL, buf, sizeof buf) < 0, "NULL key");
    CHECK(edge_model_meta_str(NULL, "general.architecture", buf, sizeof buf) < 0, "NULL model");
    CHECK(edge_model_meta_str(model, "general.architecture", NULL, 10) < 0, "NULL buf, len 10");
    CHECK(edge_model_meta_str(model, "general.architecture", buf, -1) < 0, "negative buf_len");

    int32_t count = edge_model_meta_count(model);
    CHECK(count > 10, "metadata count");
    int found = 0;
    for (int32_t i = 0; i < count; i++) {
        char key[256];
        CHECK(edge_model_meta_key_by_index(model, i, key, sizeof key) > 0, "key by index");
        if (strcmp(key, "general.architecture") == 0) {
            found = edge_model_meta_val_str_by_index(model, i, buf, sizeof buf) == 5 &&
                    strcmp(buf, "llama") == 0;
        }
    }
    CHECK(found, "general.architecture found by index");
    CHECK(edge_model_meta_key_by_index(model, count, buf, sizeof buf) < 0, "index past the end");
    CHECK(edge_model_meta_key_by_index(model, -1, buf, sizeof buf) < 0, "negative index");

    CHECK(edge_model_n_vocab(NULL) == -1 && HAS_ERROR(), "n_vocab of NULL");
    CHECK(edge_model_n_ctx_train(NULL) == -1, "n_ctx_train of NULL");
    CHECK(edge_model_meta_count(NULL) == -1, "meta_count of NULL");
}

static void test_tokenize_hostile(edge_model *model) {
    const char *text = "Hello world, hello edge";
    int32_t len = (int32_t)strlen(text);
    int32_t tokens[64];
    int32_t n = edge_tokenize(model, text, len, tokens, 64, false, false);
    CHECK(n > 2, "tokenize");

    int32_t small[2] = {-7, -7};
    int32_t r = edge_tokenize(model, text, len, small, 1, false, false);
    CHECK(r == -n, "a too-small token buffer returns -(needed)");
    CHECK(small[0] == -7 && small[1] == -7, "a too-small token buffer is not written");
    CHECK(edge_tokenize(model, text, len, NULL, 0, false, false) == -n, "size query");
    CHECK(edge_tokenize(model, "", 0, NULL, 0, false, false) == 0, "empty text");
    CHECK(edge_tokenize(model, NULL, 0, tokens, 64, false, false) == 0, "NULL text of length 0");
    CHECK(edge_tokenize(NULL, text, len, tokens, 64, false, false) == INT32_MIN && HAS_ERROR(),
          "NULL model");
    CHECK(edge_tokenize(model, NULL, 5, tokens, 64, false, false) == INT32_MIN, "NULL text");
    CHECK(edge_tokenize(model, text, -1, tokens, 64, false, false) == INT32_MIN, "negative text_len");
    CHECK(edge_tokenize(model, text, len, NULL, 64, false, false) == INT32_MIN, "NULL tokens");
    CHECK(edge_tokenize(model, text, len, tokens, -3, false, false) == INT32_MIN,
          "negative n_tokens_max");
    static const char bad_utf8[] = {'a', (char)0xff, (char)0xfe, 'b'};
    CHECK(edge_tokenize(model, bad_utf8, 4, tokens, 64, false, false) == INT32_MIN,
          "text that is not UTF-8");
    CHECK(strstr(edge_last_error(), "UTF-8") != NULL, "the message says UTF-8");

    /* Pieces: too small, out of range, and back to the text. */
    char piece[64];
    int32_t first = edge_token_to_piece(model, tokens[0], piece, sizeof piece);
    CHECK(first == 5 && memcmp(piece, "Hello", 5) == 0, "the piece of the first token");
    memset(piece, 'x', sizeof piece);
    CHECK(edge_token_to_piece(model, tokens[0], piece, 2) == -5, "a too-small piece buffer");
    CHECK(piece[0] == 'x', "a too-small piece buffer is not written");
    CHECK(edge_token_to_piece(model, tokens[0], NULL, 0) == -5, "piece size query");
    CHECK(edge_token_to_piece(model, -1, piece, sizeof piece) == INT32_MIN, "token -1");
    CHECK(edge_token_to_piece(model, edge_model_n_vocab(model), piece, sizeof piece) == INT32_MIN,
          "token n_vocab");
    CHECK(edge_token_to_piece(NULL, tokens[0], piece, sizeof piece) == INT32_MIN, "NULL model");
    CHECK(edge_token_to_piece(model, tokens[0], NULL, 8) == INT32_MIN, "NULL buf");

    char text_back[256];
    int32_t m = edge_detokenize(model, tokens, n, text_back, sizeof text_back, false, true);
    CHECK(m == len && memcmp(text_back, text, (size_t)len) == 0, "detokenize gives the text back");
    CHECK(edge_detokenize(model, tokens, n, text_back, 3, false, true) == -len,
          "detokenize into a too-small buffer");
    int32_t bad[2] = {tokens[0], -5};
    CHECK(edge_detokenize(model, bad, 2, text_back, sizeof text_back, false, true) == INT32_MIN,
          "detokenize a bad token");

    int32_t eos = edge_token_eos(model);
    CHECK(eos >= 0 && edge_token_is_eog(model, eos), "EOS ends a generation");
    CHECK(!edge_token_is_eog(model, tokens[0]), "a word does not");
    CHECK(!edge_token_is_eog(model, -1) && !edge_token_is_eog(NULL, eos), "bad arguments: false");
}

/* ---- chat template ---------------------------------------------------------------- */

static void test_chat_hostile(edge_model *model) {
    const char *roles[] = {"user"};
    const char *contents[] = {"Hi"};
    int32_t n = edge_chat_apply_template(model, roles, contents, 1, true, NULL, 0);
    CHECK(n > 0, "template size query");
    char *full = malloc((size_t)n + 1);
    CHECK(full && edge_chat_apply_template(model, roles, contents, 1, true, full, n + 1) == n,
          "template");
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK(edge_chat_apply_template(model, roles, contents, 1, true, small, 5) == n,
          "a too-small buffer still returns the full length");
    CHECK(full && memcmp(small, full, 4) == 0 && small[4] == '\0' && small[5] == 'x',
          "a too-small buffer gets a NUL-terminated prefix");
    free(full);

    const char *null_role[] = {NULL};
    CHECK(edge_chat_apply_template(model, null_role, contents, 1, true, NULL, 0) == -1,
          "a NULL role");
    CHECK(edge_chat_apply_template(model, NULL, contents, 1, true, NULL, 0) == -1, "NULL roles");
    CHECK(edge_chat_apply_template(model, roles, NULL, 1, true, NULL, 0) == -1, "NULL contents");
    CHECK(edge_chat_apply_template(model, roles, contents, -1, true, NULL, 0) == -1,
          "negative n_messages");
    CHECK(edge_chat_apply_template(NULL, roles, contents, 1, true, NULL, 0) == -1, "NULL model");
    CHECK(edge_chat_apply_template(model, roles, contents, 1, true, NULL, 4) == -1,
          "NULL buf with a size");
    const char *bad_content[] = {"\xff\xfe"};
    CHECK(edge_chat_apply_template(model, roles, bad_content, 1, true, NULL, 0) == -1,
          "content that is not UTF-8");
}

/* ---- contexts ----------------------------------------------------------------------- */

static void test_context_hostile(edge_model *model) {
    edge_context *ctx = (edge_context *)&n_checks;
    edge_context_params params = edge_context_default_params();
    CHECK(edge_context_new(NULL, &params, &ctx) == EDGE_ERR_INVALID_ARGUMENT && ctx == NULL,
          "NULL model");
    CHECK(edge_context_new(model, &params, NULL) == EDGE_ERR_INVALID_ARGUMENT, "NULL out");
    params.n_ctx = -5;
    CHECK(edge_context_new(model, &params, &ctx) == EDGE_ERR_INVALID_ARGUMENT, "negative n_ctx");
    params.n_ctx = 16;
    params.n_threads = -1;
    CHECK(edge_context_new(model, &params, &ctx) == EDGE_ERR_INVALID_ARGUMENT, "negative n_threads");
    params.n_threads = 0;
    CHECK(params.type_k == EDGE_CACHE_F16 && params.type_v == EDGE_CACHE_F16, "f16 KV cache by default");
    /* The cache types are int32_t: a value outside edge_cache_type is refused, not trusted. */
    params.type_k = 7;
    CHECK(edge_context_new(model, &params, &ctx) == EDGE_ERR_INVALID_ARGUMENT && ctx == NULL,
          "type_k out of range");
    CHECK(strstr(edge_last_error(), "type_k = 7") != NULL, "the message names type_k");
    params.type_k = EDGE_CACHE_Q8_0;
    params.type_v = -1;
    CHECK(edge_context_new(model, &params, &ctx) == EDGE_ERR_INVALID_ARGUMENT && ctx == NULL,
          "type_v out of range");
    CHECK(strstr(edge_last_error(), "type_v = -1") != NULL, "the message names type_v");
    params.type_v = EDGE_CACHE_Q8_0;
    CHECK(edge_context_new(model, &params, &ctx) == EDGE_OK && NO_ERROR(), "a q8_0 KV cache");
    edge_context_free(ctx);
    if (!quick) {
        CHECK(edge_context_new(model, NULL, &ctx) == EDGE_OK, "NULL params = defaults");
        CHECK(edge_context_n_ctx(ctx) == 4096, "the default n_ctx is min(4096, training context)");
        edge_context_free(ctx);
    }
    edge_context_free(NULL);

    CHECK(edge_context_reset(NULL) == EDGE_ERR_INVALID_ARGUMENT, "reset NULL");
    CHECK(edge_decode(NULL, NULL, 0) == EDGE_ERR_INVALID_ARGUMENT, "decode NULL");
    CHECK(edge_get_logits(NULL, NULL) == NULL, "logits of NULL");
    CHECK(edge_generate(NULL, "x", NULL, NULL, NULL) == EDGE_ERR_INVALID_ARGUMENT, "generate NULL");
    CHECK(edge_context_n_past(NULL) == -1, "n_past of NULL");

    /* Fill a context of 4 with edge_decode. */
    ctx = new_context(model, 4);
    int32_t n_vocab = -1;
    CHECK(edge_get_logits(ctx, &n_vocab) == NULL && n_vocab == 0, "no logits before a decode");
    int32_t tokens[16];
    const char *ten = "one two three four five six seven eight nine ten";
    int32_t n = edge_tokenize(model, ten, (int32_t)strlen(ten), tokens, 16, false, false);
    CHECK(n == 10, "ten tokens");
    CHECK(edge_decode(ctx, tokens, 0) == EDGE_ERR_INVALID_ARGUMENT, "zero tokens");
    CHECK(edge_decode(ctx, NULL, 3) == EDGE_ERR_INVALID_ARGUMENT, "NULL tokens");
    CHECK(edge_decode(ctx, tokens, -1) == EDGE_ERR_INVALID_ARGUMENT, "negative n_tokens");
    int32_t bad[2] = {tokens[0], edge_model_n_vocab(model)};
    CHECK(edge_decode(ctx, bad, 2) == EDGE_ERR_INVALID_ARGUMENT, "a token outside the vocabulary");
    CHECK(edge_decode(ctx, tokens, 5) == EDGE_ERR_CONTEXT_FULL, "5 tokens do not fit in 4");
    CHECK(edge_context_n_past(ctx) == 0, "a refused decode changes nothing");
    CHECK(edge_decode(ctx, tokens, 3) == EDGE_OK, "decode 3");
    const float *logits = edge_get_logits(ctx, &n_vocab);
    CHECK(logits != NULL && n_vocab == edge_model_n_vocab(model), "logits after a decode");
    float first = logits ? logits[0] : 0.0f;
    CHECK(edge_decode(ctx, tokens, 2) == EDGE_ERR_CONTEXT_FULL, "2 more do not fit in 4");
    CHECK(HAS_ERROR(), "CONTEXT_FULL leaves a message");
    CHECK(edge_context_n_past(ctx) == 3, "CONTEXT_FULL leaves the context unchanged");
    logits = edge_get_logits(ctx, &n_vocab);
    CHECK(logits != NULL && logits[0] == first, "the logits are unchanged too");
    CHECK(edge_decode(ctx, tokens + 3, 1) == EDGE_OK, "1 more fills it");
    CHECK(edge_context_n_past(ctx) == 4, "4 of 4");
    CHECK(edge_decode(ctx, tokens, 1) == EDGE_ERR_CONTEXT_FULL, "not one more");
    CHECK(edge_generate(ctx, "more", NULL, NULL, NULL) == EDGE_ERR_CONTEXT_FULL,
          "a prompt that does not fit");
    CHECK(edge_context_n_past(ctx) == 4, "still 4");
    edge_sampling_params sp = edge_sampling_default_params();
    sp.max_tokens = -1;
    CHECK(edge_generate(ctx, "", &sp, NULL, NULL) == EDGE_OK &&
              edge_context_stop_reason(ctx) == EDGE_STOP_CONTEXT_FULL,
          "generating in a full context stops at once");
    CHECK(edge_context_reset(ctx) == EDGE_OK && edge_context_n_past(ctx) == 0, "reset");
    CHECK(edge_get_logits(ctx, &n_vocab) == NULL, "no logits after a reset");
    CHECK(edge_generate(ctx, "", NULL, NULL, NULL) == EDGE_ERR_INVALID_ARGUMENT,
          "an empty prompt in an empty context");

    /* Bad prompts and sampling parameters. */
    CHECK(edge_generate(ctx, NULL, NULL, NULL, NULL) == EDGE_ERR_INVALID_ARGUMENT, "NULL prompt");
    CHECK(edge_generate(ctx, "a\xff", NULL, NULL, NULL) == EDGE_ERR_INVALID_ARGUMENT,
          "a prompt that is not UTF-8");
    sp = edge_sampling_default_params();
    sp.top_p = 0.0f;
    CHECK(edge_generate(ctx, "Hi", &sp, NULL, NULL) == EDGE_ERR_INVALID_ARGUMENT, "top_p 0");
    sp = edge_sampling_default_params();
    sp.top_k = -1;
    CHECK(edge_generate(ctx, "Hi", &sp, NULL, NULL) == EDGE_ERR_INVALID_ARGUMENT, "top_k -1");
    sp = edge_sampling_default_params();
    sp.repeat_last_n = -1;
    CHECK(edge_generate(ctx, "Hi", &sp, NULL, NULL) == EDGE_ERR_INVALID_ARGUMENT, "repeat_last_n -1");
    CHECK(edge_context_n_past(ctx) == 0, "refused generations change nothing");

    /* A context fills up while generating: EDGE_OK, stopped for that reason. */
    sp = edge_sampling_default_params();
    sp.temperature = 0.0f;
    sp.max_tokens = -1;
    CHECK(edge_generate(ctx, "The capital", &sp, NULL, NULL) == EDGE_OK,
          "generate until the context is full");
    edge_stop_reason why = edge_context_stop_reason(ctx);
    CHECK(why == EDGE_STOP_CONTEXT_FULL || why == EDGE_STOP_EOG, "stopped by the context or EOG");
    CHECK(why != EDGE_STOP_CONTEXT_FULL || edge_context_n_past(ctx) == 4, "full means 4 of 4");
    edge_context_free(ctx);
}

/* ---- generation callbacks ---------------------------------------------------------------- */

typedef struct {
    int32_t tokens[512];
    int n;
    int stop_after;  /* return false after this many tokens; 0 = never */
    int free_after;  /* edge_context_free(ctx) after this many tokens; 0 = never */
    int reenter;     /* call edge_decode / edge_generate on ctx from the callback */
    edge_context *ctx;
    edge_status reentry_status;
    char text[8192];
    size_t text_len;
    int pieces_ok;
} gen_state;

static bool on_token(const char *piece, int32_t piece_len, int32_t token, void *user_data) {
    gen_state *g = user_data;
    if (piece == NULL || piece_len < 0 || piece[piece_len] != '\0') g->pieces_ok = 0;
    if (piece && piece_len > 0 && g->text_len + (size_t)piece_len < sizeof g->text) {
        memcpy(g->text + g->text_len, piece, (size_t)piece_len);
        g->text_len += (size_t)piece_len;
        g->text[g->text_len] = '\0';
    }
    if (token >= 0 && g->n < 512) g->tokens[g->n++] = token;
    if (g->reenter) {
        int32_t t = token;
        g->reentry_status = edge_decode(g->ctx, &t, 1);
        if (edge_generate(g->ctx, "x", NULL, NULL, NULL) != EDGE_ERR_INVALID_ARGUMENT)
            g->reentry_status = EDGE_ERR_INTERNAL;
        if (edge_context_n_past(g->ctx) != -1) g->reentry_status = EDGE_ERR_INTERNAL;
    }
    if (g->free_after && g->n == g->free_after) edge_context_free(g->ctx);
    return g->stop_after == 0 || g->n < g->stop_after;
}

static gen_state *new_gen_state(edge_context *ctx) {
    gen_state *g = calloc(1, sizeof *g);
    if (g) {
        g->ctx = ctx;
        g->pieces_ok = 1;
    }
    return g;
}

static void test_generation_callbacks(edge_model *model) {
    /* Fewer tokens in a quick run: every path is taken all the same. */
    const int first_part = quick ? 1 : 3, second_part = quick ? 1 : 2;
    edge_sampling_params sp = edge_sampling_default_params();
    sp.temperature = 0.0f;
    sp.max_tokens = 20;
    const char *prompt = quick ? "Hi" : "Once upon a time";
    int32_t n_prompt = edge_tokenize(model, prompt, (int32_t)strlen(prompt), NULL, 0, true, true);
    n_prompt = -n_prompt;

    /* Stop through the callback. */
    edge_context *ctx = new_context(model, 128);
    gen_state *g = new_gen_state(ctx);
    g->stop_after = first_part;
    CHECK(edge_generate(ctx, prompt, &sp, on_token, g) == EDGE_OK, "a stopped generation is EDGE_OK");
    CHECK(g->n == first_part, "no token after the callback said stop");
    CHECK(g->pieces_ok, "pieces are NUL-terminated at piece_len");
    CHECK(edge_context_stop_reason(ctx) == EDGE_STOP_CALLBACK, "stop reason: callback");
    CHECK(edge_context_n_past(ctx) == n_prompt + first_part,
          "the context keeps the prompt and the tokens given to the callback");

    /* The context goes on where it stopped: the next tokens are those of one long run. */
    gen_state *rest = new_gen_state(ctx);
    rest->stop_after = second_part;
    CHECK(edge_generate(ctx, "", &sp, on_token, rest) == EDGE_OK, "continue with an empty prompt");
    edge_context *ctx2 = new_context(model, 128);
    gen_state *whole = new_gen_state(ctx2);
    whole->stop_after = first_part + second_part;
    CHECK(edge_generate(ctx2, prompt, &sp, on_token, whole) == EDGE_OK, "one run");
    CHECK(rest->n == second_part && whole->n == first_part + second_part &&
              memcmp(whole->tokens, g->tokens, (size_t)first_part * sizeof(int32_t)) == 0 &&
              memcmp(whole->tokens + first_part, rest->tokens, (size_t)second_part * sizeof(int32_t)) == 0,
          "two parts equal one run");
    free(rest);
    free(whole);

    /* The logits after a generation follow its last token. */
    int32_t n_vocab = 0;
    CHECK(edge_get_logits(ctx, &n_vocab) != NULL && n_vocab > 0, "logits after generating");

    /* Re-entering the context from its own callback is refused, not a crash. */
    CHECK(edge_context_reset(ctx) == EDGE_OK, "reset");
    gen_state *re = new_gen_state(ctx);
    re->reenter = 1;
    re->stop_after = 1;
    CHECK(edge_generate(ctx, prompt, &sp, on_token, re) == EDGE_OK, "generate with re-entry");
    CHECK(re->reentry_status == EDGE_ERR_INVALID_ARGUMENT, "re-entry is EDGE_ERR_INVALID_ARGUMENT");
    CHECK(edge_context_n_past(ctx) == n_prompt + 1, "re-entry did not change the context");
    free(re);
    free(g);
    edge_context_free(ctx);

    /* Freeing the context from its own callback stops generation and frees it after. */
    edge_context_free(ctx2);
    ctx = new_context(model, 128);
    g = new_gen_state(ctx);
    g->free_after = 1;
    CHECK(edge_generate(ctx, prompt, &sp, on_token, g) == EDGE_OK, "free from the callback");
    CHECK(g->n == 1, "no token after the free");
    free(g);

    /* A model freed before its context: the context still works. */
    edge_model *m2 = load_model();
    ctx = new_context(m2, 64);
    edge_model_free(m2);
    g = new_gen_state(ctx);
    sp.max_tokens = quick ? 1 : 4;
    CHECK(edge_generate(ctx, prompt, &sp, on_token, g) == EDGE_OK && g->n == sp.max_tokens,
          "a context outlives its model handle");
    free(g);
    edge_context_free(ctx);
}

/* ---- references ----------------------------------------------------------------------- */

static void test_references(edge_model *model, const char *reference) {
    size_t size = 0;
    char *all = read_file(reference, &size);
    CHECK(all != NULL, "reading the reference file");
    if (!all) return;
    int n_tok = 0, n_tok_ok = 0, n_gen = 0, n_gen_ok = 0, n_chat = 0, n_chat_ok = 0;
    int n_gen_q8 = 0, n_gen_q8_ok = 0; /* those with a q8_0 KV cache */
    static int32_t expected[8192], got[8192], prompt_ids[8192];
    char *line = all;
    while (line && *line) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *kind = strtok(line, " ");
        if (kind && kind[0] == 'T' && (!quick || n_tok < 12)) {
            int add_special = atoi(strtok(NULL, " "));
            size_t len = 0;
            char *text = unhex(strtok(NULL, " "), &len);
            int n = read_ids(expected, 8192);
            int32_t m = edge_tokenize(model, text, (int32_t)len, got, 8192, add_special, true);
            int ok = m == n && memcmp(got, expected, (size_t)n * sizeof(int32_t)) == 0;
            if (!ok) fprintf(stderr, "tokenize %s (add_special %d): %d tokens, llama.cpp %d\n", text, add_special, m, n);
            n_tok++;
            n_tok_ok += ok;
            free(text);
        } else if (kind && kind[0] == 'G') {
            int32_t type_k = cache_type(strtok(NULL, " "));
            int32_t type_v = cache_type(strtok(NULL, " "));
            int q8 = type_k == EDGE_CACHE_Q8_0 || type_v == EDGE_CACHE_Q8_0;
            /* --quick: one case with an f16 cache, one with q8_0 keys and values. */
            if (quick && (q8 ? n_gen_q8 > 0 || type_k != type_v : n_gen > n_gen_q8)) {
                line = next;
                continue;
            }
            size_t len = 0;
            char *text = unhex(strtok(NULL, " "), &len);
            int n_checked = atoi(strtok(NULL, " "));
            int n_prompt = read_ids(prompt_ids, 8192);
            int n = read_ids(expected, 8192);
            if (n < n_checked) n_checked = n;
            if (quick && n_checked > 2) n_checked = 2;
            int32_t m = edge_tokenize(model, text, (int32_t)len, got, 8192, true, true);
            int ok = m == n_prompt && memcmp(got, prompt_ids, (size_t)m * sizeof(int32_t)) == 0;
            if (!ok) fprintf(stderr, "prompt tokens of %s differ from llama.cpp's\n", text);

            /* Greedy generation from the text through edge_generate. */
            CHECK(type_k >= 0 && type_v >= 0, "a cache type of the reference file");
            edge_context *ctx = new_context_cache(model, 256, type_k, type_v);
            gen_state *g = new_gen_state(ctx);
            edge_sampling_params sp = edge_sampling_default_params();
            sp.temperature = 0.0f;
            sp.max_tokens = n_checked;
            edge_status st = edge_generate(ctx, text, &sp, on_token, g);
            int gen_ok = st == EDGE_OK && g->n >= n_checked &&
                         memcmp(g->tokens, expected, (size_t)n_checked * sizeof(int32_t)) == 0;
            if (!gen_ok) {
                fprintf(stderr, "greedy after %s: edge", text);
                for (int i = 0; i < g->n; i++) fprintf(stderr, " %d", g->tokens[i]);
                fprintf(stderr, ", llama.cpp");
                for (int i = 0; i < n_checked; i++) fprintf(stderr, " %d", expected[i]);
                fprintf(stderr, "\n");
            }
            /* The streamed text is the text of the tokens. */
            char text_back[8192];
            int32_t tb = edge_detokenize(model, g->tokens, g->n, text_back, sizeof text_back, false, true);
            gen_ok = gen_ok && g->pieces_ok && tb >= 0 && (size_t)tb == g->text_len &&
                     memcmp(text_back, g->text, (size_t)tb) == 0;
            /* The same first step through edge_decode and the logits. */
            if (n_checked > 0 && !quick) {
                CHECK(edge_context_reset(ctx) == EDGE_OK, "reset");
                int32_t n_vocab = 0;
                CHECK(edge_decode(ctx, prompt_ids, n_prompt) == EDGE_OK, "decode the prompt");
                const float *logits = edge_get_logits(ctx, &n_vocab);
                int best = 0;
                for (int i = 1; logits && i < n_vocab; i++)
                    if (logits[i] > logits[best]) best = i;
                gen_ok = gen_ok && logits != NULL && best == expected[0];
            }
            n_gen++;
            n_gen_ok += ok && gen_ok;
            n_gen_q8 += q8;
            n_gen_q8_ok += q8 && ok && gen_ok;
            free(g);
            edge_context_free(ctx);
            free(text);
        } else if (kind && kind[0] == 'C') {
            int add_gen = atoi(strtok(NULL, " "));
            int n = atoi(strtok(NULL, " "));
            char *roles[16], *contents[16];
            for (int i = 0; i < n && i < 16; i++) {
                roles[i] = unhex(strtok(NULL, " "), NULL);
                contents[i] = unhex(strtok(NULL, " "), NULL);
            }
            size_t len = 0;
            char *want = unhex(strtok(NULL, " "), &len);
            int32_t need = edge_chat_apply_template(model, (const char *const *)roles,
                                                    (const char *const *)contents, n, add_gen, NULL, 0);
            char *text = need >= 0 ? malloc((size_t)need + 1) : NULL;
            int ok = text && (size_t)need == len &&
                     edge_chat_apply_template(model, (const char *const *)roles,
                                              (const char *const *)contents, n, add_gen, text,
                                              need + 1) == need &&
                     memcmp(text, want, len) == 0 && text[len] == '\0';
            if (!ok) fprintf(stderr, "chat template: got %s\nwant %s\n", text ? text : "(error)", want);
            n_chat++;
            n_chat_ok += ok;
            free(text);
            free(want);
            for (int i = 0; i < n && i < 16; i++) {
                free(roles[i]);
                free(contents[i]);
            }
        }
        line = next;
    }
    free(all);
    printf("references: tokenization %d/%d, greedy %d/%d (q8_0 KV cache %d/%d), chat templates "
           "%d/%d equal\n",
           n_tok_ok, n_tok, n_gen_ok, n_gen, n_gen_q8_ok, n_gen_q8, n_chat_ok, n_chat);
    CHECK(n_tok > 0 && n_tok_ok == n_tok, "tokenization equals llama.cpp's");
    CHECK(n_gen > 0 && n_gen_ok == n_gen, "greedy generation equals llama.cpp's");
    CHECK(n_gen_q8 > 0, "greedy generation with a q8_0 KV cache was compared");
    CHECK(n_chat > 0 && n_chat_ok == n_chat, "chat templates equal jinja2's");
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL REFERENCE WORKDIR [--quick]\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    work_dir = argv[3];
    quick = argc > 4 && strcmp(argv[4], "--quick") == 0;
    const char *threads = getenv("EDGE_TEST_THREADS");
    if (threads) n_threads = (int32_t)atoi(threads);
    printf("libedge %s\n", edge_version());
    CHECK(NO_ERROR(), "no message before any failure");

    section("loading");
    test_loading();
    section("metadata");
    edge_model *model = load_model();
    if (!model) return 1;
    test_metadata(model);
    section("tokens");
    test_tokenize_hostile(model);
    section("chat template");
    test_chat_hostile(model);
    section("contexts");
    test_context_hostile(model);
    section("generation callbacks");
    test_generation_callbacks(model);
    section("references");
    test_references(model, argv[2]);
    edge_model_free(model);
    section(NULL);

    printf("%d checks, %d failed\n", n_checks, n_failures);
    return n_failures == 0 ? 0 : 1;
}
