/*
 * edge-chat: a small interactive chat on libedge.
 *
 *   edge-chat MODEL [-s SYSTEM] [-n MAX_TOKENS] [-t TEMPERATURE] [-c N_CTX] [--seed S]
 *             [-ctk f16|q8_0] [-ctv f16|q8_0]
 *
 * -ctk/-ctv choose the element types of the KV cache's keys and values, as llama.cpp's
 * flags of the same names (q8_0 takes about half the memory of f16, the default).
 * Each line read from stdin is a user message; the answer streams to stdout. "/reset"
 * starts a new conversation; end of input quits. The whole conversation is rendered with
 * the model's chat template at each turn, and only the text after what the context
 * already holds is evaluated.
 */
#include "edge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The edge_cache_type named as on llama.cpp's command line; -1 for another name. */
static int32_t cache_type(const char *name) {
    if (strcmp(name, "f16") == 0) return EDGE_CACHE_F16;
    if (strcmp(name, "q8_0") == 0) return EDGE_CACHE_Q8_0;
    return -1;
}

typedef struct {
    char **roles;
    char **contents;
    int32_t n;
    int32_t cap;
} conversation;

static char *copy_string(const char *s, size_t len) {
    char *out = malloc(len + 1);
    if (out) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

static int add_message(conversation *c, const char *role, const char *content) {
    if (c->n == c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 8;
        char **roles = realloc(c->roles, (size_t)cap * sizeof *roles);
        if (!roles) return 0;
        c->roles = roles;
        char **contents = realloc(c->contents, (size_t)cap * sizeof *contents);
        if (!contents) return 0;
        c->contents = contents;
        c->cap = cap;
    }
    c->roles[c->n] = copy_string(role, strlen(role));
    c->contents[c->n] = copy_string(content, strlen(content));
    if (!c->roles[c->n] || !c->contents[c->n]) return 0;
    c->n++;
    return 1;
}

/* Keeps the first `keep` messages (the system message, if any). */
static void truncate_conversation(conversation *c, int32_t keep) {
    while (c->n > keep) {
        c->n--;
        free(c->roles[c->n]);
        free(c->contents[c->n]);
    }
}

/* The conversation rendered by the model's template; NULL on error. Caller frees. */
static char *render(const edge_model *model, const conversation *c) {
    const char *const *roles = (const char *const *)c->roles;
    const char *const *contents = (const char *const *)c->contents;
    int32_t len = edge_chat_apply_template(model, roles, contents, c->n, true, NULL, 0);
    if (len < 0) return NULL;
    char *text = malloc((size_t)len + 1);
    if (text && edge_chat_apply_template(model, roles, contents, c->n, true, text, len + 1) != len) {
        free(text);
        return NULL;
    }
    return text;
}

/* A growing string. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} text_buf;

static int append(text_buf *t, const char *s, size_t len) {
    if (t->len + len + 1 > t->cap) {
        size_t cap = (t->len + len + 1) * 2;
        char *data = realloc(t->data, cap);
        if (!data) return 0;
        t->data = data;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, len);
    t->len += len;
    t->data[t->len] = '\0';
    return 1;
}

static bool on_token(const char *piece, int32_t piece_len, int32_t token, void *user_data) {
    (void)token;
    text_buf *answer = user_data;
    fwrite(piece, 1, (size_t)piece_len, stdout);
    fflush(stdout);
    return append(answer, piece, (size_t)piece_len);
}

/* Reads one line without its newline into *line; 0 at end of input. */
static int read_line(text_buf *line) {
    line->len = 0;
    char chunk[1024];
    int got = 0;
    while (fgets(chunk, sizeof chunk, stdin)) {
        got = 1;
        size_t n = strlen(chunk);
        int end = n > 0 && chunk[n - 1] == '\n';
        if (end) n--;
        if (n > 0 && chunk[n - 1] == '\r') n--;
        if (!append(line, chunk, n)) return 0;
        if (end) break;
    }
    if (got && !line->data) append(line, "", 0);
    return got;
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *system = NULL;
    edge_sampling_params sampling = edge_sampling_default_params();
    edge_context_params ctx_params = edge_context_default_params();
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "-s") == 0 && value) system = argv[++i];
        else if (strcmp(arg, "-n") == 0 && value) sampling.max_tokens = atoi(argv[++i]);
        else if (strcmp(arg, "-t") == 0 && value) sampling.temperature = (float)atof(argv[++i]);
        else if (strcmp(arg, "-c") == 0 && value) ctx_params.n_ctx = atoi(argv[++i]);
        else if (strcmp(arg, "--seed") == 0 && value) sampling.seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(arg, "-ctk") == 0 && value && cache_type(value) >= 0) ctx_params.type_k = cache_type(argv[++i]);
        else if (strcmp(arg, "-ctv") == 0 && value && cache_type(value) >= 0) ctx_params.type_v = cache_type(argv[++i]);
        else if (!model_path && arg[0] != '-') model_path = arg;
        else {
            fprintf(stderr, "usage: %s MODEL [-s SYSTEM] [-n MAX_TOKENS] [-t TEMPERATURE] [-c N_CTX] [--seed S] [-ctk f16|q8_0] [-ctv f16|q8_0]\n", argv[0]);
            return 2;
        }
    }
    if (!model_path) {
        fprintf(stderr, "usage: %s MODEL [-s SYSTEM] [-n MAX_TOKENS] [-t TEMPERATURE] [-c N_CTX] [--seed S] [-ctk f16|q8_0] [-ctv f16|q8_0]\n", argv[0]);
        return 2;
    }

    edge_model *model = NULL;
    edge_status st = edge_model_load(model_path, NULL, &model);
    if (st != EDGE_OK) {
        fprintf(stderr, "error: %s\n", edge_last_error());
        return 1;
    }
    edge_context *ctx = NULL;
    st = edge_context_new(model, &ctx_params, &ctx);
    if (st != EDGE_OK) {
        fprintf(stderr, "error: %s\n", edge_last_error());
        edge_model_free(model);
        return 1;
    }
    fprintf(stderr, "edge %s: %s loaded, context of %d tokens. /reset starts over; end of input quits.\n",
            edge_version(), model_path, edge_context_n_ctx(ctx));

    conversation conv = {0};
    int32_t n_fixed = 0;
    if (system) {
        add_message(&conv, "system", system);
        n_fixed = 1;
    }
    text_buf held = {0};   /* the text the context holds */
    text_buf line = {0};
    text_buf answer = {0};
    append(&held, "", 0);
    int status = 0;
    for (;;) {
        fprintf(stderr, "> ");
        if (!read_line(&line)) break;
        if (line.len == 0) continue;
        if (strcmp(line.data, "/reset") == 0) {
            truncate_conversation(&conv, n_fixed);
            edge_context_reset(ctx);
            held.len = 0;
            held.data[0] = '\0';
            fprintf(stderr, "(conversation cleared)\n");
            continue;
        }
        if (!add_message(&conv, "user", line.data)) break;
        char *prompt = render(model, &conv);
        if (!prompt) {
            fprintf(stderr, "error: %s\n", edge_last_error());
            status = 1;
            break;
        }
        /* Feed only what the context does not hold yet. */
        const char *suffix = prompt;
        if (held.len > 0 && strncmp(prompt, held.data, held.len) == 0) {
            suffix = prompt + held.len;
        } else {
            edge_context_reset(ctx);
            held.len = 0;
            held.data[0] = '\0';
        }
        answer.len = 0;
        append(&answer, "", 0);
        st = edge_generate(ctx, suffix, &sampling, on_token, &answer);
        printf("\n");
        if (st == EDGE_ERR_CONTEXT_FULL) {
            fprintf(stderr, "(the conversation no longer fits in the context: cleared)\n");
            truncate_conversation(&conv, n_fixed);
            edge_context_reset(ctx);
            held.len = 0;
            held.data[0] = '\0';
        } else if (st != EDGE_OK) {
            fprintf(stderr, "error: %s\n", edge_last_error());
            free(prompt);
            status = 1;
            break;
        } else {
            append(&held, suffix, strlen(suffix));
            append(&held, answer.data, answer.len);
            add_message(&conv, "assistant", answer.data);
            if (edge_context_stop_reason(ctx) == EDGE_STOP_CONTEXT_FULL) {
                fprintf(stderr, "(the context is full: conversation cleared)\n");
                truncate_conversation(&conv, n_fixed);
                edge_context_reset(ctx);
                held.len = 0;
                held.data[0] = '\0';
            }
        }
        free(prompt);
    }
    truncate_conversation(&conv, 0);
    free(conv.roles);
    free(conv.contents);
    free(held.data);
    free(line.data);
    free(answer.data);
    edge_context_free(ctx);
    edge_model_free(model);
    return status;
}
