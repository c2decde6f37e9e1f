/* llama.cpp's outputs on one GGUF, in the JSON format of shared/reference/llama.cpp/<model>.json
 * (without its tokenizer section): what tests/tests/quant_parity.rs compares edge against.
 *
 *   llamacpp_reference MODEL.gguf MODEL_KEY INPUTS_DIR OUT.json [options]
 *
 *   MODEL_KEY    smollm2 | gemma3: prompts whose "model" is another key are skipped
 *   INPUTS_DIR   shared/reference/inputs (prompts.jsonl, perplexity-apache-2.0.txt)
 *   --top K      highest logits kept per prompt position (default 10)
 *   --greedy N   greedy steps per prompt (default 16)
 *   --flash-attn auto|on|off   (default auto, as llama.cpp's tools)
 *   --threads N  (default 2)
 *   --cache-type-k f16|q8_0, --cache-type-v f16|q8_0   KV cache types (default f16)
 *
 * libllama on the CPU, f16 KV cache unless asked otherwise, one context of 512 cells. For every prompt (tokenized with
 * the model's add-BOS setting, special-token text parsed) the whole prompt is one batch with
 * logits at every position: `positions[]` holds their logsumexp, the K highest [id, logit] and
 * the NLL of the next prompt token; then `greedy` continues it N steps by argmax (lowest id on a
 * tie; an end-of-generation token is kept and ends it), with `greedy_margin` = best minus second
 * best logit at each step. `perplexity[0]`: the first 512 tokens of the text (BOS per the model's
 * setting) in one batch of 512; `next_nll[i]` is the NLL of token i+1, `perplexity` = exp(mean).
 *
 * Built and run by tests/refgen/llamacpp_quant_refs.sh against a llama.cpp build; not part of
 * edge. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

#define N_CTX 512
#define MAX_PROMPTS 64

static void die(const char *what) {
    fprintf(stderr, "llamacpp_reference: %s\n", what);
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

static char *read_file(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = xmalloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) die("short read");
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* ---- Reading prompts.jsonl: flat objects of string values. ---------------------------- */

static void put_utf8(char **out, uint32_t c) {
    char *o = *out;
    if (c < 0x80) { *o++ = (char)c; }
    else if (c < 0x800) { *o++ = (char)(0xC0 | c >> 6); *o++ = (char)(0x80 | (c & 0x3F)); }
    else if (c < 0x10000) {
        *o++ = (char)(0xE0 | c >> 12); *o++ = (char)(0x80 | (c >> 6 & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    } else {
        *o++ = (char)(0xF0 | c >> 18); *o++ = (char)(0x80 | (c >> 12 & 0x3F));
        *o++ = (char)(0x80 | (c >> 6 & 0x3F)); *o++ = (char)(0x80 | (c & 0x3F));
    }
    *out = o;
}

static uint32_t hex4(const char *s) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else die("bad \\u escape in prompts.jsonl");
    }
    return v;
}

/* Parses the JSON string at *p (at its opening quote); returns it decoded, advances *p. */
static char *json_string(const char **p) {
    const char *s = *p;
    if (*s != '"') die("expected a string in prompts.jsonl");
    s++;
    char *out = xmalloc(strlen(s) * 3 + 1), *o = out;
    while (*s && *s != '"') {
        if (*s != '\\') { *o++ = *s++; continue; }
        s++;
        switch (*s) {
        case 'n': *o++ = '\n'; s++; break;
        case 't': *o++ = '\t'; s++; break;
        case 'r': *o++ = '\r'; s++; break;
        case 'b': *o++ = '\b'; s++; break;
        case 'f': *o++ = '\f'; s++; break;
        case 'u': {
            uint32_t c = hex4(s + 1);
            s += 5;
            if (c >= 0xD800 && c < 0xDC00 && s[0] == '\\' && s[1] == 'u') {
                uint32_t lo = hex4(s + 2);
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            put_utf8(&o, c);
            break;
        }
        default: *o++ = *s++; break; /* \" \\ \/ */
        }
    }
    if (*s != '"') die("unterminated string in prompts.jsonl");
    *o = 0;
    *p = s + 1;
    return out;
}

/* The string value of `key` in the one-line object `line`, or NULL. */
static char *json_field(const char *line, const char *key) {
    const char *p = line;
    while ((p = strchr(p, '"'))) {
        char *k = json_string(&p);
        while (*p == ' ') p++;
        bool is_key = *p == ':';
        if (is_key) {
            p++;
            while (*p == ' ') p++;
        }
        if (is_key && strcmp(k, key) == 0) {
            free(k);
            return *p == '"' ? json_string(&p) : NULL;
        }
        free(k);
        if (is_key && *p == '"') free(json_string(&p)); /* skip the value */
    }
    return NULL;
}

/* ---- Writing JSON. -------------------------------------------------------------------- */

static void put_json_string(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') fputs("\\\"", f);
        else if (c == '\\') fputs("\\\\", f);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* A float rounded to `dec` decimals, without trailing zeros. */
static void put_num(FILE *f, double v, int dec) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", dec, v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *e = buf + strlen(buf) - 1;
        while (e > dot && *e == '0') *e-- = 0;
        if (e == dot) *e = 0;
    }
    if (strcmp(buf, "-0") == 0) strcpy(buf, "0");
    fputs(buf, f);
}

static void put_ids(FILE *f, const llama_token *t, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", t[i]);
    fputc(']', f);
}

/* ---- Logits. -------------------------------------------------------------------------- */

static double logsumexp(const float *l, int n) {
    float max = l[0];
    for (int i = 1; i < n; i++) if (l[i] > max) max = l[i];
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)l[i] - max);
    return max + log(sum);
}

/* Indices of the k highest logits, best first (lower id first on a tie). */
static void top_k(const float *l, int n, int k, int *idx) {
    for (int j = 0; j < k; j++) idx[j] = -1;
    for (int i = 0; i < n; i++) {
        int j = k;
        while (j > 0 && (idx[j - 1] < 0 || l[i] > l[idx[j - 1]])) j--;
        if (j >= k) continue;
        memmove(idx + j + 1, idx + j, sizeof(int) * (size_t)(k - j - 1));
        idx[j] = i;
    }
}

static llama_token *tokenize(const struct llama_vocab *vocab, const char *text, int *n) {
    int len = (int)strlen(text);
    int cap = len + 8;
    llama_token *t = xmalloc(sizeof(llama_token) * (size_t)cap);
    *n = llama_tokenize(vocab, text, len, t, cap, true, true);
    if (*n < 0) die("tokenization failed");
    return t;
}

/* Decodes `n` tokens at positions pos.. of sequence 0, with logits for all of them
 * (`all`) or only the last. */
static void decode(struct llama_context *ctx, const llama_token *t, int n, int pos, bool all) {
    struct llama_batch b = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        b.token[i] = t[i];
        b.pos[i] = pos + i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = all || i == n - 1;
    }
    b.n_tokens = n;
    if (llama_decode(ctx, b) != 0) die("llama_decode failed");
    llama_batch_free(b);
}

static bool no_progress(float progress, void *data) {
    (void)progress;
    (void)data;
    return true;
}

static void quiet_log(enum ggml_log_level level, const char *text, void *data) {
    (void)data;
    if (level >= GGML_LOG_LEVEL_WARN) fputs(text, stderr);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s MODEL.gguf MODEL_KEY INPUTS_DIR OUT.json [--top K] "
                        "[--greedy N] [--flash-attn auto|on|off] [--threads N] "
                        "[--cache-type-k f16|q8_0] [--cache-type-v f16|q8_0]\n", argv[0]);
        return 2;
    }
    const char *model_path = argv[1], *key = argv[2], *inputs = argv[3], *out_path = argv[4];
    int k_top = 10, n_greedy = 16, threads = 2;
    enum llama_flash_attn_type fa = LLAMA_FLASH_ATTN_TYPE_AUTO;
    enum ggml_type type_k = GGML_TYPE_F16, type_v = GGML_TYPE_F16;
    for (int i = 5; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--top")) k_top = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--greedy")) n_greedy = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--flash-attn")) {
            const char *v = argv[i + 1];
            fa = !strcmp(v, "on") ? LLAMA_FLASH_ATTN_TYPE_ENABLED
               : !strcmp(v, "off") ? LLAMA_FLASH_ATTN_TYPE_DISABLED : LLAMA_FLASH_ATTN_TYPE_AUTO;
        } else if (!strcmp(argv[i], "--cache-type-k") || !strcmp(argv[i], "--cache-type-v")) {
            const char *v = argv[i + 1];
            enum ggml_type t = !strcmp(v, "q8_0") ? GGML_TYPE_Q8_0
                             : !strcmp(v, "f16") ? GGML_TYPE_F16 : GGML_TYPE_COUNT;
            if (t == GGML_TYPE_COUNT) die("cache types: f16 or q8_0");
            if (argv[i][13] == 'k') type_k = t; else type_v = t;
        } else die("unknown option");
    }
    if (k_top < 1 || n_greedy < 0 || threads < 1) die("bad option value");

    llama_log_set(quiet_log, NULL);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.progress_callback = no_progress;
    struct llama_model *model = llama_model_load_from_file(model_path, mp);
    if (!model) die("cannot load the model");
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = N_CTX;
    cp.n_batch = N_CTX;
    cp.n_ubatch = N_CTX;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.type_k = type_k;
    cp.type_v = type_v;
    cp.flash_attn_type = fa;
    cp.offload_kqv = false;
    cp.op_offload = false;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) die("cannot create a context");
    llama_memory_t mem = llama_get_memory(ctx);

    char path[4096];
    FILE *f = fopen(out_path, "w");
    if (!f) { perror(out_path); return 1; }
    const char *base = strrchr(model_path, '/');
    fputs("{\n \"model\": ", f);
    put_json_string(f, base ? base + 1 : model_path, strlen(base ? base + 1 : model_path));
    fputs(",\n \"prompts\": [", f);

    /* ---- Prompts. ---- */
    snprintf(path, sizeof path, "%s/prompts.jsonl", inputs);
    char *jsonl = read_file(path, NULL);
    int *idx = xmalloc(sizeof(int) * (size_t)(k_top > 2 ? k_top : 2));
    int n_written = 0;
    for (char *line = strtok(jsonl, "\n"); line; line = strtok(NULL, "\n")) {
        char *id = json_field(line, "id"), *text = json_field(line, "text");
        char *only = json_field(line, "model");
        if (!text) die("prompt without text");
        if (only && strcmp(only, key) != 0) { free(id); free(text); free(only); continue; }

        int n;
        llama_token *t = tokenize(vocab, text, &n);
        if (n < 1 || n + n_greedy > N_CTX) die("prompt too long or empty");
        llama_memory_clear(mem, true);
        decode(ctx, t, n, 0, true);

        fprintf(f, "%s\n  {\n   \"id\": ", n_written++ ? "," : "");
        put_json_string(f, id ? id : "", id ? strlen(id) : 0);
        fputs(",\n   \"text\": ", f);
        put_json_string(f, text, strlen(text));
        fprintf(f, ",\n   \"n_vocab\": %d,\n   \"tokens\": ", n_vocab);
        put_ids(f, t, n);
        fputs(",\n   \"positions\": [", f);
        double nll_sum = 0;
        for (int i = 0; i < n; i++) {
            const float *l = llama_get_logits_ith(ctx, i);
            double lse = logsumexp(l, n_vocab);
            top_k(l, n_vocab, k_top, idx);
            fprintf(f, "%s\n    {\"pos\": %d, \"logsumexp\": ", i ? "," : "", i);
            put_num(f, lse, 5);
            if (i + 1 < n) {
                double nll = lse - l[t[i + 1]];
                nll_sum += nll;
                fprintf(f, ", \"next\": %d, \"next_nll\": ", t[i + 1]);
                put_num(f, nll, 5);
            }
            fputs(", \"top\": [", f);
            for (int j = 0; j < k_top; j++) {
                fprintf(f, "%s[%d, ", j ? ", " : "", idx[j]);
                put_num(f, l[idx[j]], 4);
                fputc(']', f);
            }
            fputs("]}", f);
        }
        fputs("\n   ],\n", f);
        if (n > 1) {
            double mean = nll_sum / (n - 1);
            fputs("   \"mean_nll\": ", f);
            put_num(f, mean, 6);
            fputs(",\n   \"perplexity\": ", f);
            put_num(f, exp(mean), 6);
            fputs(",\n", f);
        }

        /* Greedy continuation. */
        llama_token *g = xmalloc(sizeof(llama_token) * (size_t)(n_greedy + 1));
        double *margin = xmalloc(sizeof(double) * (size_t)(n_greedy + 1));
        int ng = 0;
        const float *l = llama_get_logits_ith(ctx, n - 1);
        while (ng < n_greedy) {
            top_k(l, n_vocab, 2, idx);
            g[ng] = idx[0];
            margin[ng] = (double)l[idx[0]] - (double)l[idx[1]];
            ng++;
            if (llama_vocab_is_eog(vocab, idx[0]) || ng == n_greedy) break;
            decode(ctx, &g[ng - 1], 1, n + ng - 1, false);
            l = llama_get_logits_ith(ctx, -1);
        }
        fputs("   \"greedy\": ", f);
        put_ids(f, g, ng);
        fputs(",\n   \"greedy_margin\": [", f);
        for (int i = 0; i < ng; i++) {
            if (i) fputs(", ", f);
            put_num(f, margin[i], 5);
        }
        fputs("],\n   \"greedy_text\": ", f);
        char text_buf[8192];
        int tl = llama_detokenize(vocab, g, ng, text_buf, sizeof text_buf, false, false);
        put_json_string(f, text_buf, tl > 0 ? (size_t)tl : 0);
        fputs("\n  }", f);
        free(g); free(margin); free(t); free(id); free(text); free(only);
    }
    fputs("\n ],\n", f);

    /* ---- Perplexity: the first 512 tokens of the text, one window. ---- */
    const char *ppl_file = "perplexity-apache-2.0.txt";
    snprintf(path, sizeof path, "%s/%s", inputs, ppl_file);
    long text_len;
    char *text = read_file(path, &text_len);
    int n_all;
    llama_token *all = tokenize(vocab, text, &n_all);
    if (n_all < N_CTX) die("perplexity text shorter than 512 tokens");
    llama_memory_clear(mem, true);
    decode(ctx, all, N_CTX, 0, true);
    double sum = 0;
    double *nlls = xmalloc(sizeof(double) * N_CTX);
    for (int i = 0; i + 1 < N_CTX; i++) {
        const float *l = llama_get_logits_ith(ctx, i);
        nlls[i] = logsumexp(l, n_vocab) - l[all[i + 1]];
        sum += nlls[i];
    }
    double mean = sum / (N_CTX - 1);
    fprintf(f, " \"perplexity\": [\n  {\n   \"file\": \"%s\",\n   \"n_ctx\": %d,\n"
               "   \"n_tokens\": %d,\n   \"mean_nll\": ", ppl_file, N_CTX, N_CTX);
    put_num(f, mean, 6);
    fputs(",\n   \"perplexity\": ", f);
    put_num(f, exp(mean), 6);
    fputs(",\n   \"tokens\": ", f);
    put_ids(f, all, N_CTX);
    fputs(",\n   \"next_nll\": [", f);
    for (int i = 0; i + 1 < N_CTX; i++) {
        if (i) fputs(", ", f);
        put_num(f, nlls[i], 5);
    }
    fputs("]\n  }\n ]\n}\n", f);
    if (fclose(f) != 0) { perror(out_path); return 1; }
    fprintf(stderr, "%s: perplexity %.6f (flash attention %s)\n", out_path, exp(mean),
            llama_flash_attn_type_name(fa));

    free(nlls); free(all); free(text); free(jsonl); free(idx);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
