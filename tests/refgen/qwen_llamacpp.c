/* Tokenizes texts and evaluates token sequences with llama.cpp (libllama, CPU), writing
 * token ids and the logits of EVERY position: what tests/refgen/qwen_tiny.py needs to show
 * that llama.cpp and transformers agree on a converted GGUF, and to record llama.cpp's
 * token ids as goldens.
 *
 *   qwen_llamacpp MODEL.gguf KV_TYPE REQUESTS.bin OUT.bin
 *
 * KV_TYPE: f32 or f16 (type of the K and V caches). REQUESTS.bin is a sequence of
 * requests, each one byte of kind then a little-endian u32 length n, then:
 *   't' (tokenize, specials parsed)  / 'p' (tokenize, specials as plain text):
 *       n bytes of UTF-8 text; answer: u32 count, then count i32 token ids (the model's
 *       add-BOS setting applies);
 *   'e' (evaluate): n i32 token ids, evaluated in one batch in a fresh context; answer:
 *       n * n_vocab f32 logits, position after position.
 * Answers are appended to OUT.bin in request order (host byte order: little-endian on the
 * machines this runs on).
 *
 * Built and run by tests/refgen/qwen_tiny.py against a llama.cpp checkout; not part of
 * edge. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"
#include "llama.h"

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level >= GGML_LOG_LEVEL_WARN) fputs(text, stderr);
}

static int read_exact(FILE *f, void *buf, size_t n) { return fread(buf, 1, n, f) == n; }

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s MODEL.gguf f32|f16 REQUESTS.bin OUT.bin\n", argv[0]);
        return 2;
    }
    enum ggml_type kv = strcmp(argv[2], "f16") == 0 ? GGML_TYPE_F16 : GGML_TYPE_F32;
    llama_log_set(quiet, NULL);
    llama_backend_init();

    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    FILE *in = fopen(argv[3], "rb");
    FILE *out = fopen(argv[4], "wb");
    if (!in || !out) { perror("open"); return 1; }

    unsigned char kind;
    uint32_t n;
    while (read_exact(in, &kind, 1)) {
        if (!read_exact(in, &n, 4)) { fprintf(stderr, "truncated request\n"); return 1; }
        if (kind == 't' || kind == 'p') {
            char *text = malloc(n + 1);
            if (n && !read_exact(in, text, n)) { fprintf(stderr, "truncated text\n"); return 1; }
            text[n] = 0;
            int32_t cap = (int32_t)n + 16;
            llama_token *ids = malloc(sizeof(llama_token) * cap);
            int32_t k = llama_tokenize(vocab, text, (int32_t)n, ids, cap, true, kind == 't');
            if (k < 0) { fprintf(stderr, "tokenize failed (%d)\n", k); return 1; }
            uint32_t count = (uint32_t)k;
            fwrite(&count, 4, 1, out);
            fwrite(ids, sizeof(llama_token), count, out);
            free(ids);
            free(text);
        } else if (kind == 'e') {
            llama_token *ids = malloc(sizeof(llama_token) * n);
            if (!read_exact(in, ids, sizeof(llama_token) * n)) { fprintf(stderr, "truncated ids\n"); return 1; }
            struct llama_context_params cp = llama_context_default_params();
            cp.n_ctx = n < 64 ? 64 : n;
            cp.n_batch = cp.n_ctx;
            cp.n_ubatch = cp.n_ctx;
            cp.n_threads = 2;
            cp.n_threads_batch = 2;
            cp.type_k = kv;
            cp.type_v = kv;
            cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
            struct llama_context *ctx = llama_init_from_model(model, cp);
            if (!ctx) { fprintf(stderr, "cannot create a context\n"); return 1; }
            struct llama_batch batch = llama_batch_init((int32_t)n, 0, 1);
            for (uint32_t i = 0; i < n; i++) {
                batch.token[i] = ids[i];
                batch.pos[i] = (llama_pos)i;
                batch.n_seq_id[i] = 1;
                batch.seq_id[i][0] = 0;
                batch.logits[i] = 1;
            }
            batch.n_tokens = (int32_t)n;
            if (llama_decode(ctx, batch) != 0) { fprintf(stderr, "decode failed\n"); return 1; }
            for (uint32_t i = 0; i < n; i++) {
                fwrite(llama_get_logits_ith(ctx, (int32_t)i), sizeof(float), n_vocab, out);
            }
            llama_batch_free(batch);
            llama_free(ctx);
            free(ids);
        } else {
            fprintf(stderr, "unknown request kind %d\n", kind);
            return 1;
        }
    }
    fclose(out);
    fclose(in);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
