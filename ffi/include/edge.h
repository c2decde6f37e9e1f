/*
 * edge.h: the C API of edge (libedge), on-device inference of quantized models from GGUF files.
 *
 * Generated from ffi/src by cbindgen (see ffi/cbindgen.toml); do not edit by hand.
 * C11. Link with -ledge (libedge.so or libedge.a; the static library also needs
 * -lpthread -ldl -lm).
 *
 * Conventions:
 *  - Functions that can fail return an edge_status (or, for those returning a size, a
 *    negative value) and leave a message in edge_last_error(), per thread.
 *  - A NULL or out-of-range argument never crashes: it is EDGE_ERR_INVALID_ARGUMENT.
 *  - *_free(NULL) is a no-op.
 *  - A model may be used by several threads at once; a context by one thread at a time.
 */

#ifndef EDGE_H
#define EDGE_H



#include <stdbool.h>
#include <stdint.h>

// The `seed` that asks for a new random seed at each call.
#define EDGE_DEFAULT_SEED UINT64_MAX

// The result of a call. Every value other than `EDGE_OK` comes with a message from
// `edge_last_error()`.
typedef enum edge_status {
  // Success.
  EDGE_OK = 0,
  // A NULL or out-of-range argument, text that is not UTF-8, or a context already in
  // use.
  EDGE_ERR_INVALID_ARGUMENT = 1,
  // A missing or unreadable file.
  EDGE_ERR_IO = 2,
  // A file that is not a valid model (not GGUF, truncated, missing tensors or
  // metadata, inconsistent shapes).
  EDGE_ERR_FORMAT = 3,
  // A valid file this build cannot run (architecture, tensor type, tokenizer, CPU
  // features).
  EDGE_ERR_UNSUPPORTED = 4,
  // Memory could not be allocated.
  EDGE_ERR_OUT_OF_MEMORY = 5,
  // The tokens do not fit in what is left of the context.
  EDGE_ERR_CONTEXT_FULL = 6,
  // A progress callback returned false.
  EDGE_ERR_CANCELLED = 7,
  // A bug in edge (a panic was caught); the message says where.
  EDGE_ERR_INTERNAL = 8,
} edge_status;

// Why the last `edge_generate` on a context ended.
typedef enum edge_stop_reason {
  // No generation yet, the last one failed, or the context was reset.
  EDGE_STOP_NONE = 0,
  // The model produced an end-of-generation token (not given to the callback, not
  // kept in the context).
  EDGE_STOP_EOG = 1,
  // `max_tokens` tokens were generated.
  EDGE_STOP_MAX_TOKENS = 2,
  // Every position of the context is used.
  EDGE_STOP_CONTEXT_FULL = 3,
  // The token callback returned false (or freed the context).
  EDGE_STOP_CALLBACK = 4,
} edge_stop_reason;

// The element type of one side (keys or values) of a context's KV cache, as llama.cpp's
// `--cache-type-k` / `--cache-type-v`. Set in `edge_context_params.type_k` and
// `edge_context_params.type_v` (as `int32_t`; any other value is refused with
// `EDGE_ERR_INVALID_ARGUMENT`).
typedef enum edge_cache_type {
  // 16-bit floats, 2 bytes per value (the default, as llama.cpp's).
  EDGE_CACHE_F16 = 0,
  // q8_0: blocks of 32 8-bit values with an f16 scale, about half the memory of f16.
  // Needs a model whose attention head width is a multiple of 32.
  EDGE_CACHE_Q8_0 = 1,
} edge_cache_type;

// One sequence being evaluated by a model: its KV cache of `n_ctx` positions, the tokens
// in it and the logits of the last one.
//
// Opaque; create it with `edge_context_new`, release it with `edge_context_free`. A
// context is used by one thread at a time (it may move between threads); a second call
// while one is running — from another thread, or from inside the context's own token
// callback — fails with `EDGE_ERR_INVALID_ARGUMENT` instead of corrupting it. Several
// contexts of one model may run on different threads at the same time.
typedef struct edge_context edge_context;

// A loaded model: weights (memory-mapped, still quantized), tokenizer, chat template.
//
// Opaque; create it with `edge_model_load`, release it with `edge_model_free`. Immutable
// once loaded: any number of threads may use one model at the same time (tokenize,
// create contexts, read metadata).
typedef struct edge_model edge_model;

// Called while a model loads with the fraction done, in `[0, 1]` (it reaches `1.0` when
// the model is ready). Return `true` to go on, `false` to cancel: `edge_model_load` then
// returns `EDGE_ERR_CANCELLED` and releases everything it had loaded. Called on the
// thread that called `edge_model_load`.
typedef bool (*edge_progress_callback)(float progress, void *user_data);

// How to load a model. Get the defaults from `edge_model_default_params()`, then change
// what you need.
typedef struct edge_model_params {
  // Map the file into memory (default `true`): the weights are read from the page
  // cache as they are used and shared with other processes. `false` reads the whole
  // file into memory first, in transparent huge pages where the OS offers them, which
  // makes decoding faster (the file may then change or disappear).
  bool use_mmap;
  // Threads for the matrix products of every context of this model; `0` (default) uses
  // every core. At most 1024.
  int32_t n_threads;
  // Called with the loading progress; NULL (default) for none.
  edge_progress_callback progress;
  // Passed to `progress` as is.
  void *progress_user_data;
} edge_model_params;

// How to create a context. Get the defaults from `edge_context_default_params()`.
typedef struct edge_context_params {
  // Positions in the context (prompt and generated tokens together); `0` (default)
  // takes the model's training context, at most 4096.
  int32_t n_ctx;
  // Reserved: the threads of a model are set when it is loaded
  // (`edge_model_params.n_threads`) and shared by its contexts. Must be `>= 0`.
  int32_t n_threads;
  // The element type of the cached keys, an `edge_cache_type` (llama.cpp's
  // `--cache-type-k`); default `EDGE_CACHE_F16`.
  int32_t type_k;
  // The element type of the cached values, an `edge_cache_type` (llama.cpp's
  // `--cache-type-v`); default `EDGE_CACHE_F16`.
  int32_t type_v;
} edge_context_params;

// How to choose tokens. Get the defaults from `edge_sampling_default_params()`.
//
// The filters apply in llama.cpp's order: penalties, top-k, top-p, min-p, temperature,
// then a draw with a seeded generator.
typedef struct edge_sampling_params {
  // Temperature; `0` (or below) is greedy decoding: always the most likely token (the
  // lowest id among equals). Default 0.8.
  float temperature;
  // Keep the `top_k` most likely tokens; `0` keeps all. Default 40.
  int32_t top_k;
  // Keep the most likely tokens whose probabilities add up to `top_p`, in `(0, 1]`;
  // `1` keeps all. Default 0.95.
  float top_p;
  // Drop tokens less likely than `min_p` times the most likely one, in `[0, 1]`; `0`
  // keeps all. Default 0.05.
  float min_p;
  // Penalty for tokens among the last `repeat_last_n` (prompt included), `> 0`; `1`
  // is off (default).
  float repeat_penalty;
  // The same seed, model, context and parameters give the same tokens;
  // `EDGE_DEFAULT_SEED` (default) takes a new random seed at each call.
  uint64_t seed;
  // Most tokens to generate; a negative value goes on until an end-of-generation token
  // or a full context. Default 256.
  int32_t max_tokens;
  // How many of the last tokens the penalties look at; `0` turns them off. Default 64.
  int32_t repeat_last_n;
  // Subtracted from a logit once per occurrence of its token in the window; `0` (default)
  // is off.
  float frequency_penalty;
  // Subtracted from a logit once if its token occurs in the window; `0` (default) is
  // off.
  float presence_penalty;
} edge_sampling_params;

// Receives each generated token as it is produced, on the thread that called
// `edge_generate`: `piece` is the text this token completes, NUL-terminated, `piece_len`
// bytes long (without the NUL) — whole UTF-8 characters only, so it is empty
// (`piece_len` 0) when the token ends inside a character, whose bytes then come with a
// later token. `token` is the token's id. When generation ends with bytes of an
// unfinished character, a last call brings them as U+FFFD with `token` -1.
//
// `piece` belongs to the library and is valid only during the call. Return `true` to go
// on, `false` to stop (`edge_generate` then returns `EDGE_OK`).
typedef bool (*edge_token_callback)(const char *piece, int32_t piece_len, int32_t token, void *user_data);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// The version of edge, e.g. `"0.1.0"`.
//
// Returns a static NUL-terminated string owned by the library (never free it, never
// NULL). Thread-safe.
const char *edge_version(void);

// The message of the last failed call on this thread: what went wrong and where (the
// file, tensor, metadata key or argument at fault).
//
// Returns a NUL-terminated UTF-8 string owned by the library, never NULL: empty when the
// last call on this thread succeeded (every function that can fail clears it when it
// starts). The pointer is valid until the next `edge_*` call on this thread; copy the
// text to keep it. Thread-safe: each thread has its own message.
const char *edge_last_error(void);

// The default model parameters: memory-mapped, every core, no progress callback.
// Thread-safe.
struct edge_model_params edge_model_default_params(void);

// Loads the GGUF model at `path` (a NUL-terminated file name) and stores a new handle in
// `*out`.
//
// `params` may be NULL for the defaults. On failure `*out` is set to NULL and nothing is
// leaked.
//
// Returns `EDGE_OK`; `EDGE_ERR_INVALID_ARGUMENT` (NULL `path` or `out`, bad parameters);
// `EDGE_ERR_IO` (missing or unreadable file); `EDGE_ERR_FORMAT` (not a valid model);
// `EDGE_ERR_UNSUPPORTED` (an architecture, tensor type or tokenizer edge cannot run);
// `EDGE_ERR_OUT_OF_MEMORY`; `EDGE_ERR_CANCELLED` (the progress callback returned false).
//
// Ownership: the caller owns the model and frees it with `edge_model_free`.
// Thread-safe: several models may load at the same time on different threads.
//
// # Safety
// `path` is NULL or a NUL-terminated string; `params` is NULL or points to an
// `edge_model_params`; `out` is NULL or writable.
enum edge_status edge_model_load(const char *path, const struct edge_model_params *params, struct edge_model **out);

// Releases a model. NULL is a no-op.
//
// Contexts created from the model keep what they need of it: the model's memory is
// released when the last of them is freed, so the model may be freed first. Do not use
// `model` again after this call.
//
// # Safety
// `model` is NULL or a handle from `edge_model_load` not yet freed, which no other
// thread is using.
void edge_model_free(struct edge_model *model);

// The number of tokens in the vocabulary (the number of logits per token), or -1 when
// `model` is NULL. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle.
int32_t edge_model_n_vocab(const struct edge_model *model);

// The context length the model was trained with, or -1 when `model` is NULL.
// Thread-safe.
//
// # Safety
// `model` is NULL or a live handle.
int32_t edge_model_n_ctx_train(const struct edge_model *model);

// The width of the model's embeddings, or -1 when `model` is NULL. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle.
int32_t edge_model_n_embd(const struct edge_model *model);

// The number of transformer layers, or -1 when `model` is NULL. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle.
int32_t edge_model_n_layer(const struct edge_model *model);

// Copies the value of metadata `key` (e.g. `"general.architecture"`) into `buf` as
// text: strings as they are, numbers in decimal, booleans as `true`/`false`.
//
// Returns the length of the value in bytes, without the NUL. When `buf_len` is too
// small (return value `>= buf_len`) a truncated, NUL-terminated copy is written; with
// `buf_len` 0 nothing is written (`buf` may then be NULL), so that a first call can ask
// for the size. Returns a negative value when the key is missing, holds an array, or an
// argument is NULL or negative (see `edge_last_error()`).
//
// Ownership: the caller owns `buf`. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle; `key` is NULL or NUL-terminated; `buf` is writable
// for `buf_len` bytes.
int32_t edge_model_meta_str(const struct edge_model *model, const char *key, char *buf, int32_t buf_len);

// The number of metadata entries of the model file, or -1 when `model` is NULL.
// Thread-safe.
//
// # Safety
// `model` is NULL or a live handle.
int32_t edge_model_meta_count(const struct edge_model *model);

// Copies the key of metadata entry `index` (`0 <= index < edge_model_meta_count()`, in
// file order) into `buf`, as `edge_model_meta_str` does; negative on a bad index or
// argument. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle; `buf` is writable for `buf_len` bytes.
int32_t edge_model_meta_key_by_index(const struct edge_model *model, int32_t index, char *buf, int32_t buf_len);

// Copies the value of metadata entry `index` into `buf` as text, as
// `edge_model_meta_str` does; negative on a bad index or argument, or when the value is
// an array. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle; `buf` is writable for `buf_len` bytes.
int32_t edge_model_meta_val_str_by_index(const struct edge_model *model, int32_t index, char *buf, int32_t buf_len);

// Tokenizes `text_len` bytes of UTF-8 `text` (no NUL needed) into `tokens`.
//
// - `add_special`: add BOS (and EOS) where the model asks for them.
// - `parse_special`: special-token text such as `<|im_start|>` becomes that token; when
//   false it is tokenized as plain text.
//
// Returns the number of tokens written; when `n_tokens_max` is too small, nothing is
// written and the result is `-(number of tokens needed)` (so a first call with
// `n_tokens_max` 0 and `tokens` NULL asks for the size). Returns `INT32_MIN` on error
// (NULL `model`, NULL `text` with `text_len > 0`, negative lengths, `text` not UTF-8;
// see `edge_last_error()`).
//
// Ownership: the caller owns both buffers. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle; `text` is readable for `text_len` bytes; `tokens` is
// writable for `n_tokens_max` elements.
int32_t edge_tokenize(const struct edge_model *model, const char *text, int32_t text_len, int32_t *tokens, int32_t n_tokens_max, bool add_special, bool parse_special);

// Copies the bytes of `token` into `buf` (special tokens as their text, e.g.
// `<|im_end|>`). No NUL is added. A piece may be part of a UTF-8 character (byte
// tokens): join the pieces of several tokens before reading them as text.
//
// Returns the number of bytes written; when `buf_len` is too small, nothing is written
// and the result is `-(number of bytes needed)`. Returns `INT32_MIN` on error (NULL
// `model`, a token outside the vocabulary, negative `buf_len`, NULL `buf` with
// `buf_len > 0`).
//
// Ownership: the caller owns `buf`. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle; `buf` is writable for `buf_len` bytes.
int32_t edge_token_to_piece(const struct edge_model *model, int32_t token, char *buf, int32_t buf_len);

// Turns `n_tokens` tokens back into text, as llama.cpp's detokenizer does (the space a
// SentencePiece model puts in front of the text is removed).
//
// - `remove_special`: drop a leading BOS and trailing EOS where the model adds them.
// - `unparse_special`: write control tokens as their text; when false they are dropped.
//
// Returns the number of bytes written (no NUL is added; bytes of an unfinished UTF-8
// character at the end are written as they are); when `buf_len` is too small, nothing is
// written and the result is `-(number of bytes needed)`. Returns `INT32_MIN` on error
// (NULL `model`, NULL `tokens` with `n_tokens > 0`, a token outside the vocabulary,
// negative lengths).
//
// Ownership: the caller owns both buffers. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle; `tokens` is readable for `n_tokens` elements; `buf`
// is writable for `buf_len` bytes.
int32_t edge_detokenize(const struct edge_model *model, const int32_t *tokens, int32_t n_tokens, char *buf, int32_t buf_len, bool remove_special, bool unparse_special);

// The beginning-of-sequence token, or -1 when the model has none or `model` is NULL.
// Thread-safe.
//
// # Safety
// `model` is NULL or a live handle.
int32_t edge_token_bos(const struct edge_model *model);

// The end-of-sequence token, or -1 when the model has none or `model` is NULL.
// Thread-safe.
//
// # Safety
// `model` is NULL or a live handle.
int32_t edge_token_eos(const struct edge_model *model);

// Whether `token` ends a generation (EOS, end of turn such as `<|im_end|>`); false for
// other tokens, ids outside the vocabulary and a NULL `model`. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle.
bool edge_token_is_eog(const struct edge_model *model, int32_t token);

// The default context parameters: `n_ctx` 0 (the model's training context, at most
// 4096), an f16 KV cache (`EDGE_CACHE_F16` keys and values). Thread-safe.
struct edge_context_params edge_context_default_params(void);

// Creates a context for `model` and stores it in `*out` (NULL on failure). `params` may
// be NULL for the defaults.
//
// Returns `EDGE_OK`; `EDGE_ERR_INVALID_ARGUMENT` (NULL `model` or `out`, negative
// parameters, a `type_k` or `type_v` that is not an `edge_cache_type`, a q8_0 cache for a
// model whose attention head width is not a multiple of 32);
// `EDGE_ERR_OUT_OF_MEMORY` (the KV cache does not fit).
//
// Ownership: the caller owns the context and frees it with `edge_context_free`. The
// context keeps the model's memory alive: `edge_model_free` may come before it.
// Thread-safe with respect to `model` (several threads may create contexts of one
// model at once).
//
// # Safety
// `model` is NULL or a live handle; `params` is NULL or points to an
// `edge_context_params`; `out` is NULL or writable.
enum edge_status edge_context_new(struct edge_model *model, const struct edge_context_params *params, struct edge_context **out);

// Releases a context (and the model, if its handle was freed and this was its last
// context). NULL is a no-op.
//
// May be called from inside the context's own token callback: generation then stops and
// the context is freed when `edge_generate` returns. Do not use `ctx` again after this
// call.
//
// # Safety
// `ctx` is NULL or a live handle from `edge_context_new`, not freed before.
void edge_context_free(struct edge_context *ctx);

// Forgets every token of the context (its memory stays allocated for the next ones).
//
// Returns `EDGE_OK`, or `EDGE_ERR_INVALID_ARGUMENT` for a NULL or busy context.
// One thread at a time per context.
//
// # Safety
// `ctx` is NULL or a live handle.
enum edge_status edge_context_reset(struct edge_context *ctx);

// Evaluates `n_tokens` tokens after those already in the context; their logits are then
// read with `edge_get_logits`.
//
// Returns `EDGE_OK`; `EDGE_ERR_CONTEXT_FULL` when they do not fit in what is left of
// the context (nothing is evaluated and the context is unchanged);
// `EDGE_ERR_INVALID_ARGUMENT` (NULL `ctx`, `n_tokens < 1`, NULL `tokens`, a token outside
// the vocabulary, a busy context — the context unchanged).
//
// Ownership: `tokens` stays the caller's; it is only read during the call. One thread
// at a time per context.
//
// # Safety
// `ctx` is NULL or a live handle; `tokens` is readable for `n_tokens` elements.
enum edge_status edge_decode(struct edge_context *ctx, const int32_t *tokens, int32_t n_tokens);

// The logits of the last token evaluated in the context: `*n_vocab` (when `n_vocab` is
// not NULL) receives their number.
//
// Returns NULL (and `*n_vocab` = 0) before any token was evaluated, after
// `edge_context_reset`, or on error (see `edge_last_error()`). After `edge_generate`
// they are the logits following the last generated token.
//
// Ownership: the array belongs to the context; it is valid until the next call that
// changes the context (`edge_decode`, `edge_generate`, `edge_context_reset`,
// `edge_context_free`). One thread at a time per context.
//
// # Safety
// `ctx` is NULL or a live handle; `n_vocab` is NULL or writable.
const float *edge_get_logits(struct edge_context *ctx, int32_t *n_vocab);

// The number of positions of the context, or -1 when `ctx` is NULL or busy.
//
// # Safety
// `ctx` is NULL or a live handle.
int32_t edge_context_n_ctx(struct edge_context *ctx);

// The number of tokens in the context (prompt and generated tokens so far), or -1 when
// `ctx` is NULL or busy.
//
// # Safety
// `ctx` is NULL or a live handle.
int32_t edge_context_n_past(struct edge_context *ctx);

// The default sampling parameters (llama.cpp's): temperature 0.8, top-k 40, top-p 0.95,
// min-p 0.05, no penalties, a random seed, at most 256 tokens. Thread-safe.
struct edge_sampling_params edge_sampling_default_params(void);

// Generates text after `prompt` (NUL-terminated UTF-8) in `ctx`, streaming each token to
// `on_token` (which may be NULL to generate without streaming).
//
// The prompt is tokenized with special-token text parsed as special tokens
// (`<|im_start|>`), and evaluated after what the context already holds, so successive
// calls continue one conversation (`edge_context_reset` starts over). BOS is added where
// the model asks for it only when the context is empty, and not twice when the prompt
// already starts with it (chat templates often write it). An empty prompt continues
// from the context's last token.
//
// Generation stops at an end-of-generation token, after `max_tokens` tokens, when the
// context is full, or when `on_token` returns false; `edge_context_stop_reason` says
// which. Afterwards the context holds the prompt and every token given to `on_token`
// (not an end-of-generation token).
//
// Returns `EDGE_OK` in all those cases. Returns `EDGE_ERR_CONTEXT_FULL` when the prompt
// itself does not fit in what is left of the context (nothing is evaluated, the context
// is unchanged); `EDGE_ERR_INVALID_ARGUMENT` for a NULL `ctx` or `prompt`, a prompt
// that is not UTF-8, parameters out of range, a busy context, or an empty prompt in an
// empty context. `params` may be NULL for the defaults.
//
// One thread at a time per context; the callback runs on the calling thread and must
// not use `ctx` (except `edge_context_free`, which stops generation).
//
// # Safety
// `ctx` is NULL or a live handle; `prompt` is NULL or NUL-terminated; `params` is NULL
// or points to an `edge_sampling_params`; `on_token`, if given, may be called with
// `user_data`.
enum edge_status edge_generate(struct edge_context *ctx, const char *prompt, const struct edge_sampling_params *params, edge_token_callback on_token, void *user_data);

// Why the last `edge_generate` on `ctx` ended; `EDGE_STOP_NONE` before any, after a
// failed one, after `edge_context_reset`, or when `ctx` is NULL or busy.
//
// # Safety
// `ctx` is NULL or a live handle.
enum edge_stop_reason edge_context_stop_reason(struct edge_context *ctx);

// Renders a conversation of `n_messages` messages (`roles[i]`, e.g. `"system"`, `"user"`,
// `"assistant"`, says `contents[i]`; NUL-terminated UTF-8) with the model's chat template
// (`tokenizer.chat_template`; ChatML when the model has none). With
// `add_generation_prompt` the text ends with the opening of the assistant's turn, ready
// for `edge_generate`.
//
// Returns the length of the text in bytes, without the NUL. The text and a NUL are
// written to `buf` when `buf_len` is larger than that; otherwise a truncated,
// NUL-terminated copy is written (nothing when `buf_len` is 0; `buf` may then be NULL),
// so that a first call can ask for the size. Returns -1 on error (NULL or non-UTF-8
// arguments, negative counts, a template this engine cannot compile, or a template that
// refuses the conversation; see `edge_last_error()`).
//
// Ownership: the caller owns every array and `buf`. Thread-safe.
//
// # Safety
// `model` is NULL or a live handle; `roles` and `contents` are NULL or readable for
// `n_messages` pointers, each NULL or NUL-terminated; `buf` is writable for `buf_len`
// bytes.
int32_t edge_chat_apply_template(const struct edge_model *model, const char *const *roles, const char *const *contents, int32_t n_messages, bool add_generation_prompt, char *buf, int32_t buf_len);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* EDGE_H */
