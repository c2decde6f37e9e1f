/*
 * edge_jni.c: the JNI shim between the Java classes of dev.edge and libedge (edge.h).
 *
 * Rules this file keeps, so that nothing here can crash the JVM:
 * - every handle, array and object from Java is checked before use (a NULL array throws
 *   NullPointerException; the Java classes never pass a zero or freed handle);
 * - strings cross as UTF-8 byte arrays, copied into NUL-terminated C buffers (JNI's own
 *   string functions use modified UTF-8);
 * - a failed libedge call throws dev.edge.EdgeException(status, edge_last_error()), read
 *   right after the call, before any other edge_* call on this thread;
 * - a Java exception raised inside a callback stays pending: the C callback returns false
 *   (which stops libedge), no further JNI call but cleanup is made, and the exception
 *   reaches the Java caller when the native method returns;
 * - every local reference made in a loop or a callback is deleted at once.
 *
 * Classes, methods and fields are looked up once, in JNI_OnLoad (from the class loader of
 * dev.edge.Native), and kept as global references.
 */
#include <jni.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge.h"

/* ------------------------------------------------------------------------------------ */
/* Cached classes, methods and fields                                                    */

static jclass g_edge_exception;    /* dev.edge.EdgeException */
static jmethodID g_edge_exception_init; /* EdgeException(int, byte[]) */
static jclass g_npe;               /* java.lang.NullPointerException */
static jclass g_oom;               /* java.lang.OutOfMemoryError */
static jmethodID g_sink_on_piece;  /* boolean Context.Sink.onPiece(byte[], int) */
static jmethodID g_progress_on_progress; /* boolean ProgressCallback.onProgress(float) */

static jfieldID f_mp_use_mmap, f_mp_n_threads, f_mp_progress;
static jfieldID f_cp_n_ctx, f_cp_n_threads, f_cp_type_k, f_cp_type_v;
static jfieldID f_sp_temperature, f_sp_top_k, f_sp_top_p, f_sp_min_p, f_sp_repeat_penalty,
    f_sp_seed, f_sp_max_tokens, f_sp_repeat_last_n, f_sp_frequency_penalty,
    f_sp_presence_penalty;

static jclass global_class(JNIEnv *env, const char *name) {
    jclass local = (*env)->FindClass(env, name);
    if (local == NULL) {
        return NULL;
    }
    jclass global = (jclass)(*env)->NewGlobalRef(env, local);
    (*env)->DeleteLocalRef(env, local);
    return global;
}

static bool lookup_fields(JNIEnv *env) {
    jclass c = (*env)->FindClass(env, "dev/edge/ModelParams");
    if (c == NULL) {
        return false;
    }
    f_mp_use_mmap = (*env)->GetFieldID(env, c, "useMmap", "Z");
    f_mp_n_threads = (*env)->GetFieldID(env, c, "nThreads", "I");
    f_mp_progress = (*env)->GetFieldID(env, c, "progress", "Ldev/edge/ProgressCallback;");
    (*env)->DeleteLocalRef(env, c);
    if (f_mp_use_mmap == NULL || f_mp_n_threads == NULL || f_mp_progress == NULL) {
        return false;
    }

    c = (*env)->FindClass(env, "dev/edge/ContextParams");
    if (c == NULL) {
        return false;
    }
    f_cp_n_ctx = (*env)->GetFieldID(env, c, "nCtx", "I");
    f_cp_n_threads = (*env)->GetFieldID(env, c, "nThreads", "I");
    f_cp_type_k = (*env)->GetFieldID(env, c, "typeK", "I");
    f_cp_type_v = (*env)->GetFieldID(env, c, "typeV", "I");
    (*env)->DeleteLocalRef(env, c);
    if (f_cp_n_ctx == NULL || f_cp_n_threads == NULL || f_cp_type_k == NULL ||
        f_cp_type_v == NULL) {
        return false;
    }

    c = (*env)->FindClass(env, "dev/edge/SamplingParams");
    if (c == NULL) {
        return false;
    }
    f_sp_temperature = (*env)->GetFieldID(env, c, "temperature", "F");
    f_sp_top_k = (*env)->GetFieldID(env, c, "topK", "I");
    f_sp_top_p = (*env)->GetFieldID(env, c, "topP", "F");
    f_sp_min_p = (*env)->GetFieldID(env, c, "minP", "F");
    f_sp_repeat_penalty = (*env)->GetFieldID(env, c, "repeatPenalty", "F");
    f_sp_seed = (*env)->GetFieldID(env, c, "seed", "J");
    f_sp_max_tokens = (*env)->GetFieldID(env, c, "maxTokens", "I");
    f_sp_repeat_last_n = (*env)->GetFieldID(env, c, "repeatLastN", "I");
    f_sp_frequency_penalty = (*env)->GetFieldID(env, c, "frequencyPenalty", "F");
    f_sp_presence_penalty = (*env)->GetFieldID(env, c, "presencePenalty", "F");
    (*env)->DeleteLocalRef(env, c);
    return f_sp_temperature != NULL && f_sp_top_k != NULL && f_sp_top_p != NULL &&
           f_sp_min_p != NULL && f_sp_repeat_penalty != NULL && f_sp_seed != NULL &&
           f_sp_max_tokens != NULL && f_sp_repeat_last_n != NULL &&
           f_sp_frequency_penalty != NULL && f_sp_presence_penalty != NULL;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    (void)reserved;
    JNIEnv *env = NULL;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_6) != JNI_OK) {
        return JNI_ERR;
    }
    g_edge_exception = global_class(env, "dev/edge/EdgeException");
    g_npe = global_class(env, "java/lang/NullPointerException");
    g_oom = global_class(env, "java/lang/OutOfMemoryError");
    if (g_edge_exception == NULL || g_npe == NULL || g_oom == NULL) {
        return JNI_ERR;
    }
    g_edge_exception_init = (*env)->GetMethodID(env, g_edge_exception, "<init>", "(I[B)V");
    if (g_edge_exception_init == NULL) {
        return JNI_ERR;
    }
    jclass c = (*env)->FindClass(env, "dev/edge/Context$Sink");
    if (c == NULL) {
        return JNI_ERR;
    }
    g_sink_on_piece = (*env)->GetMethodID(env, c, "onPiece", "([BI)Z");
    (*env)->DeleteLocalRef(env, c);
    c = (*env)->FindClass(env, "dev/edge/ProgressCallback");
    if (c == NULL) {
        return JNI_ERR;
    }
    g_progress_on_progress = (*env)->GetMethodID(env, c, "onProgress", "(F)Z");
    (*env)->DeleteLocalRef(env, c);
    if (g_sink_on_piece == NULL || g_progress_on_progress == NULL || !lookup_fields(env)) {
        return JNI_ERR;
    }
    return JNI_VERSION_1_6;
}

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                               */

#define HANDLE(type, h) ((type *)(intptr_t)(h))

static bool pending(JNIEnv *env) { return (*env)->ExceptionCheck(env) == JNI_TRUE; }

static void throw_class(JNIEnv *env, jclass cls, const char *message) {
    if (!pending(env)) {
        (*env)->ThrowNew(env, cls, message);
    }
}

/* A new byte[] holding `len` bytes of `data` (NULL with an exception pending on failure). */
static jbyteArray new_bytes(JNIEnv *env, const char *data, size_t len) {
    if (len > (size_t)INT32_MAX) {
        throw_class(env, g_oom, "edge_jni: result too large for a Java array");
        return NULL;
    }
    jbyteArray out = (*env)->NewByteArray(env, (jsize)len);
    if (out != NULL && len > 0) {
        (*env)->SetByteArrayRegion(env, out, 0, (jsize)len, (const jbyte *)data);
    }
    return out;
}

/*
 * Throws EdgeException for `status` with this thread's edge_last_error() (call it right
 * after the failed libedge call). Keeps an exception already pending (one raised by a
 * callback): that one is the cause and reaches the caller.
 */
static void throw_edge(JNIEnv *env, int status) {
    if (pending(env)) {
        return;
    }
    const char *message = edge_last_error();
    if (message == NULL) {
        message = "";
    }
    jbyteArray bytes = new_bytes(env, message, strlen(message));
    if (bytes == NULL) {
        return;
    }
    jobject ex = (*env)->NewObject(env, g_edge_exception, g_edge_exception_init, (jint)status,
                                   bytes);
    (*env)->DeleteLocalRef(env, bytes);
    if (ex != NULL) {
        (*env)->Throw(env, (jthrowable)ex);
        (*env)->DeleteLocalRef(env, ex);
    }
}

/*
 * A malloc'ed, NUL-terminated copy of a Java byte[] (its length in *len when len is not
 * NULL); NULL with an exception pending when `array` is null or memory runs out. Free it.
 */
static char *copy_bytes(JNIEnv *env, jbyteArray array, const char *what, jsize *len) {
    if (array == NULL) {
        throw_class(env, g_npe, what);
        return NULL;
    }
    jsize n = (*env)->GetArrayLength(env, array);
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL) {
        throw_class(env, g_oom, "edge_jni: cannot copy an argument");
        return NULL;
    }
    (*env)->GetByteArrayRegion(env, array, 0, n, (jbyte *)buf);
    buf[n] = '\0';
    if (len != NULL) {
        *len = n;
    }
    return buf;
}

/* A malloc'ed copy of a Java int[]; NULL with an exception pending on failure. */
static int32_t *copy_ints(JNIEnv *env, jintArray array, jsize *len) {
    if (array == NULL) {
        throw_class(env, g_npe, "tokens");
        return NULL;
    }
    jsize n = (*env)->GetArrayLength(env, array);
    int32_t *buf = malloc(((size_t)n + 1) * sizeof(int32_t));
    if (buf == NULL) {
        throw_class(env, g_oom, "edge_jni: cannot copy the tokens");
        return NULL;
    }
    (*env)->GetIntArrayRegion(env, array, 0, n, (jint *)buf);
    *len = n;
    return buf;
}

/* ------------------------------------------------------------------------------------ */
/* Parameters                                                                            */

JNIEXPORT jstring JNICALL Java_dev_edge_Native_version(JNIEnv *env, jclass cls) {
    (void)cls;
    return (*env)->NewStringUTF(env, edge_version()); /* ASCII, e.g. "0.1.0" */
}

JNIEXPORT void JNICALL Java_dev_edge_Native_modelDefaults(JNIEnv *env, jclass cls, jobject p) {
    (void)cls;
    if (p == NULL) {
        throw_class(env, g_npe, "params");
        return;
    }
    edge_model_params d = edge_model_default_params();
    (*env)->SetBooleanField(env, p, f_mp_use_mmap, d.use_mmap ? JNI_TRUE : JNI_FALSE);
    (*env)->SetIntField(env, p, f_mp_n_threads, d.n_threads);
}

JNIEXPORT void JNICALL Java_dev_edge_Native_contextDefaults(JNIEnv *env, jclass cls, jobject p) {
    (void)cls;
    if (p == NULL) {
        throw_class(env, g_npe, "params");
        return;
    }
    edge_context_params d = edge_context_default_params();
    (*env)->SetIntField(env, p, f_cp_n_ctx, d.n_ctx);
    (*env)->SetIntField(env, p, f_cp_n_threads, d.n_threads);
    (*env)->SetIntField(env, p, f_cp_type_k, d.type_k);
    (*env)->SetIntField(env, p, f_cp_type_v, d.type_v);
}

JNIEXPORT void JNICALL Java_dev_edge_Native_samplingDefaults(JNIEnv *env, jclass cls, jobject p) {
    (void)cls;
    if (p == NULL) {
        throw_class(env, g_npe, "params");
        return;
    }
    edge_sampling_params d = edge_sampling_default_params();
    (*env)->SetFloatField(env, p, f_sp_temperature, d.temperature);
    (*env)->SetIntField(env, p, f_sp_top_k, d.top_k);
    (*env)->SetFloatField(env, p, f_sp_top_p, d.top_p);
    (*env)->SetFloatField(env, p, f_sp_min_p, d.min_p);
    (*env)->SetFloatField(env, p, f_sp_repeat_penalty, d.repeat_penalty);
    (*env)->SetLongField(env, p, f_sp_seed, (jlong)d.seed);
    (*env)->SetIntField(env, p, f_sp_max_tokens, d.max_tokens);
    (*env)->SetIntField(env, p, f_sp_repeat_last_n, d.repeat_last_n);
    (*env)->SetFloatField(env, p, f_sp_frequency_penalty, d.frequency_penalty);
    (*env)->SetFloatField(env, p, f_sp_presence_penalty, d.presence_penalty);
}

/* Fields libedge has and this shim does not know keep libedge's defaults. */
static edge_sampling_params read_sampling(JNIEnv *env, jobject p) {
    edge_sampling_params s = edge_sampling_default_params();
    s.temperature = (*env)->GetFloatField(env, p, f_sp_temperature);
    s.top_k = (*env)->GetIntField(env, p, f_sp_top_k);
    s.top_p = (*env)->GetFloatField(env, p, f_sp_top_p);
    s.min_p = (*env)->GetFloatField(env, p, f_sp_min_p);
    s.repeat_penalty = (*env)->GetFloatField(env, p, f_sp_repeat_penalty);
    s.seed = (uint64_t)(*env)->GetLongField(env, p, f_sp_seed);
    s.max_tokens = (*env)->GetIntField(env, p, f_sp_max_tokens);
    s.repeat_last_n = (*env)->GetIntField(env, p, f_sp_repeat_last_n);
    s.frequency_penalty = (*env)->GetFloatField(env, p, f_sp_frequency_penalty);
    s.presence_penalty = (*env)->GetFloatField(env, p, f_sp_presence_penalty);
    return s;
}

/* ------------------------------------------------------------------------------------ */
/* Model                                                                                 */

typedef struct {
    JNIEnv *env;
    jobject callback; /* ProgressCallback */
} progress_state;

static bool on_progress(float fraction, void *user_data) {
    progress_state *st = user_data;
    JNIEnv *env = st->env;
    if (pending(env)) {
        return false;
    }
    jboolean go = (*env)->CallBooleanMethod(env, st->callback, g_progress_on_progress, fraction);
    if (pending(env)) {
        return false; /* the exception reaches the caller of Model's constructor */
    }
    return go == JNI_TRUE;
}

JNIEXPORT jlong JNICALL Java_dev_edge_Native_modelLoad(JNIEnv *env, jclass cls, jbyteArray path,
                                                        jobject p) {
    (void)cls;
    if (p == NULL) {
        throw_class(env, g_npe, "params");
        return 0;
    }
    char *cpath = copy_bytes(env, path, "path", NULL);
    if (cpath == NULL) {
        return 0;
    }
    edge_model_params params = edge_model_default_params();
    params.use_mmap = (*env)->GetBooleanField(env, p, f_mp_use_mmap) == JNI_TRUE;
    params.n_threads = (*env)->GetIntField(env, p, f_mp_n_threads);
    jobject callback = (*env)->GetObjectField(env, p, f_mp_progress);
    progress_state st = {env, callback};
    if (callback != NULL) {
        params.progress = on_progress;
        params.progress_user_data = &st;
    }
    edge_model *model = NULL;
    edge_status status = edge_model_load(cpath, &params, &model);
    free(cpath);
    if (callback != NULL) {
        (*env)->DeleteLocalRef(env, callback);
    }
    if (status != EDGE_OK) {
        throw_edge(env, status);
        return 0;
    }
    if (pending(env)) { /* cannot happen: a failing callback cancels the load */
        edge_model_free(model);
        return 0;
    }
    return (jlong)(intptr_t)model;
}

JNIEXPORT void JNICALL Java_dev_edge_Native_modelFree(JNIEnv *env, jclass cls, jlong model) {
    (void)env;
    (void)cls;
    edge_model_free(HANDLE(edge_model, model));
}

/* For the int getters: -1 means a NULL model, which the Java side never passes. */
static jint checked_int(JNIEnv *env, int32_t value) {
    if (value < 0) {
        throw_edge(env, EDGE_ERR_INVALID_ARGUMENT);
    }
    return value;
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_modelNVocab(JNIEnv *env, jclass cls, jlong model) {
    (void)cls;
    return checked_int(env, edge_model_n_vocab(HANDLE(edge_model, model)));
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_modelNCtxTrain(JNIEnv *env, jclass cls, jlong model) {
    (void)cls;
    return checked_int(env, edge_model_n_ctx_train(HANDLE(edge_model, model)));
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_modelNEmbd(JNIEnv *env, jclass cls, jlong model) {
    (void)cls;
    return checked_int(env, edge_model_n_embd(HANDLE(edge_model, model)));
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_modelNLayer(JNIEnv *env, jclass cls, jlong model) {
    (void)cls;
    return checked_int(env, edge_model_n_layer(HANDLE(edge_model, model)));
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_modelMetaCount(JNIEnv *env, jclass cls, jlong model) {
    (void)cls;
    return checked_int(env, edge_model_meta_count(HANDLE(edge_model, model)));
}

/*
 * The text a "length, or truncated copy" getter returns (edge_model_meta_str and the by-index
 * pair): asks for the length, then copies. NULL without an exception when the getter
 * returns a negative value (missing key, array value, bad index).
 */
typedef int32_t (*text_getter)(const edge_model *model, const void *arg, char *buf,
                               int32_t buf_len);

static jbyteArray get_text(JNIEnv *env, const edge_model *model, const void *arg,
                           text_getter get) {
    int32_t n = get(model, arg, NULL, 0);
    if (n < 0) {
        return NULL;
    }
    for (int attempt = 0; attempt < 4; attempt++) {
        char *buf = malloc((size_t)n + 1);
        if (buf == NULL) {
            throw_class(env, g_oom, "edge_jni: cannot allocate a metadata value");
            return NULL;
        }
        int32_t m = get(model, arg, buf, n + 1);
        if (m < 0) {
            free(buf);
            return NULL;
        }
        if (m <= n) {
            jbyteArray out = new_bytes(env, buf, (size_t)m);
            free(buf);
            return out;
        }
        free(buf); /* cannot happen for an immutable model; try again with the new size */
        n = m;
    }
    return NULL;
}

static int32_t meta_by_key(const edge_model *model, const void *key, char *buf, int32_t len) {
    return edge_model_meta_str(model, key, buf, len);
}

static int32_t meta_key_by_index(const edge_model *model, const void *index, char *buf,
                                 int32_t len) {
    return edge_model_meta_key_by_index(model, *(const int32_t *)index, buf, len);
}

static int32_t meta_val_by_index(const edge_model *model, const void *index, char *buf,
                                 int32_t len) {
    return edge_model_meta_val_str_by_index(model, *(const int32_t *)index, buf, len);
}

JNIEXPORT jbyteArray JNICALL Java_dev_edge_Native_modelMeta(JNIEnv *env, jclass cls, jlong model,
                                                            jbyteArray key) {
    (void)cls;
    char *ckey = copy_bytes(env, key, "key", NULL);
    if (ckey == NULL) {
        return NULL;
    }
    jbyteArray out = get_text(env, HANDLE(edge_model, model), ckey, meta_by_key);
    free(ckey);
    return out;
}

JNIEXPORT jbyteArray JNICALL Java_dev_edge_Native_modelMetaKey(JNIEnv *env, jclass cls,
                                                               jlong model, jint index) {
    (void)cls;
    int32_t i = index;
    return get_text(env, HANDLE(edge_model, model), &i, meta_key_by_index);
}

JNIEXPORT jbyteArray JNICALL Java_dev_edge_Native_modelMetaValue(JNIEnv *env, jclass cls,
                                                                 jlong model, jint index) {
    (void)cls;
    int32_t i = index;
    return get_text(env, HANDLE(edge_model, model), &i, meta_val_by_index);
}

/* ------------------------------------------------------------------------------------ */
/* Tokens                                                                                */

JNIEXPORT jintArray JNICALL Java_dev_edge_Native_tokenize(JNIEnv *env, jclass cls, jlong model,
                                                          jbyteArray text, jboolean add_special,
                                                          jboolean parse_special) {
    (void)cls;
    jsize len = 0;
    char *ctext = copy_bytes(env, text, "text", &len);
    if (ctext == NULL) {
        return NULL;
    }
    /* A first guess that fits nearly always: one token per byte, plus a few special ones. */
    int32_t cap = len < INT32_MAX - 16 ? len + 16 : INT32_MAX;
    jintArray out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        int32_t *tokens = malloc((size_t)cap * sizeof(int32_t));
        if (tokens == NULL) {
            throw_class(env, g_oom, "edge_jni: cannot allocate the tokens");
            break;
        }
        int32_t n = edge_tokenize(HANDLE(edge_model, model), ctext, len, tokens, cap,
                                  add_special == JNI_TRUE, parse_special == JNI_TRUE);
        if (n == INT32_MIN) {
            free(tokens);
            throw_edge(env, EDGE_ERR_INVALID_ARGUMENT);
            break;
        }
        if (n >= 0) {
            out = (*env)->NewIntArray(env, n);
            if (out != NULL) {
                (*env)->SetIntArrayRegion(env, out, 0, n, (const jint *)tokens);
            }
            free(tokens);
            break;
        }
        free(tokens);
        cap = -n;
    }
    free(ctext);
    return out;
}

/* The bytes of a "bytes, or -(needed), or INT32_MIN" call, with a first buffer of `cap`. */
typedef int32_t (*bytes_getter)(JNIEnv *env, const void *args, char *buf, int32_t buf_len);

static jbyteArray get_bytes(JNIEnv *env, const void *args, bytes_getter get, int32_t cap) {
    for (int attempt = 0; attempt < 2; attempt++) {
        char *buf = malloc((size_t)cap);
        if (buf == NULL) {
            throw_class(env, g_oom, "edge_jni: cannot allocate a buffer");
            return NULL;
        }
        int32_t n = get(env, args, buf, cap);
        if (n == INT32_MIN) {
            free(buf);
            throw_edge(env, EDGE_ERR_INVALID_ARGUMENT);
            return NULL;
        }
        if (n >= 0) {
            jbyteArray out = new_bytes(env, buf, (size_t)n);
            free(buf);
            return out;
        }
        free(buf);
        cap = -n;
    }
    throw_class(env, g_oom, "edge_jni: the result kept growing");
    return NULL;
}

typedef struct {
    const edge_model *model;
    int32_t token;
} piece_args;

static int32_t piece_get(JNIEnv *env, const void *args, char *buf, int32_t buf_len) {
    (void)env;
    const piece_args *a = args;
    return edge_token_to_piece(a->model, a->token, buf, buf_len);
}

JNIEXPORT jbyteArray JNICALL Java_dev_edge_Native_tokenToPiece(JNIEnv *env, jclass cls,
                                                               jlong model, jint token) {
    (void)cls;
    piece_args args = {HANDLE(edge_model, model), token};
    return get_bytes(env, &args, piece_get, 64);
}

typedef struct {
    const edge_model *model;
    const int32_t *tokens;
    int32_t n_tokens;
    bool remove_special;
    bool unparse_special;
} detok_args;

static int32_t detok_get(JNIEnv *env, const void *args, char *buf, int32_t buf_len) {
    (void)env;
    const detok_args *a = args;
    return edge_detokenize(a->model, a->tokens, a->n_tokens, buf, buf_len, a->remove_special,
                           a->unparse_special);
}

JNIEXPORT jbyteArray JNICALL Java_dev_edge_Native_detokenize(JNIEnv *env, jclass cls,
                                                             jlong model, jintArray tokens,
                                                             jboolean remove_special,
                                                             jboolean unparse_special) {
    (void)cls;
    jsize n = 0;
    int32_t *ids = copy_ints(env, tokens, &n);
    if (ids == NULL) {
        return NULL;
    }
    detok_args args = {HANDLE(edge_model, model), ids, n, remove_special == JNI_TRUE,
                       unparse_special == JNI_TRUE};
    int32_t cap = n < (INT32_MAX - 64) / 8 ? n * 8 + 64 : INT32_MAX;
    jbyteArray out = get_bytes(env, &args, detok_get, cap);
    free(ids);
    return out;
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_tokenBos(JNIEnv *env, jclass cls, jlong model) {
    (void)env;
    (void)cls;
    return edge_token_bos(HANDLE(edge_model, model));
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_tokenEos(JNIEnv *env, jclass cls, jlong model) {
    (void)env;
    (void)cls;
    return edge_token_eos(HANDLE(edge_model, model));
}

JNIEXPORT jboolean JNICALL Java_dev_edge_Native_tokenIsEog(JNIEnv *env, jclass cls, jlong model,
                                                           jint token) {
    (void)env;
    (void)cls;
    return edge_token_is_eog(HANDLE(edge_model, model), token) ? JNI_TRUE : JNI_FALSE;
}

/* ------------------------------------------------------------------------------------ */
/* Chat template                                                                         */

/* Copies a byte[][] into `n` malloc'ed C strings; false (exception pending) on failure. */
static bool copy_strings(JNIEnv *env, jobjectArray array, char **out, jsize n,
                         const char *what) {
    for (jsize i = 0; i < n; i++) {
        jbyteArray item = (jbyteArray)(*env)->GetObjectArrayElement(env, array, i);
        if (pending(env)) {
            return false;
        }
        out[i] = copy_bytes(env, item, what, NULL);
        if (item != NULL) {
            (*env)->DeleteLocalRef(env, item);
        }
        if (out[i] == NULL) {
            return false;
        }
    }
    return true;
}

JNIEXPORT jbyteArray JNICALL Java_dev_edge_Native_chatApplyTemplate(
    JNIEnv *env, jclass cls, jlong model, jobjectArray roles, jobjectArray contents,
    jboolean add_generation_prompt) {
    (void)cls;
    if (roles == NULL || contents == NULL) {
        throw_class(env, g_npe, roles == NULL ? "roles" : "contents");
        return NULL;
    }
    jsize n = (*env)->GetArrayLength(env, roles);
    if ((*env)->GetArrayLength(env, contents) != n) {
        throw_edge(env, EDGE_ERR_INVALID_ARGUMENT);
        return NULL;
    }
    char **cr = calloc((size_t)n + 1, sizeof(char *));
    char **cc = calloc((size_t)n + 1, sizeof(char *));
    jbyteArray out = NULL;
    if (cr == NULL || cc == NULL) {
        throw_class(env, g_oom, "edge_jni: cannot copy the messages");
        goto done;
    }
    if (!copy_strings(env, roles, cr, n, "role") ||
        !copy_strings(env, contents, cc, n, "content")) {
        goto done;
    }
    const edge_model *m = HANDLE(edge_model, model);
    bool add = add_generation_prompt == JNI_TRUE;
    int32_t len = edge_chat_apply_template(m, (const char *const *)cr, (const char *const *)cc,
                                           n, add, NULL, 0);
    if (len < 0) {
        throw_edge(env, EDGE_ERR_INVALID_ARGUMENT);
        goto done;
    }
    char *buf = malloc((size_t)len + 1);
    if (buf == NULL) {
        throw_class(env, g_oom, "edge_jni: cannot allocate the rendered template");
        goto done;
    }
    int32_t got = edge_chat_apply_template(m, (const char *const *)cr, (const char *const *)cc,
                                           n, add, buf, len + 1);
    if (got < 0) {
        throw_edge(env, EDGE_ERR_INVALID_ARGUMENT);
    } else {
        out = new_bytes(env, buf, (size_t)(got < len ? got : len));
    }
    free(buf);
done:
    for (jsize i = 0; i < n; i++) {
        if (cr != NULL) {
            free(cr[i]);
        }
        if (cc != NULL) {
            free(cc[i]);
        }
    }
    free(cr);
    free(cc);
    return out;
}

/* ------------------------------------------------------------------------------------ */
/* Context                                                                               */

JNIEXPORT jlong JNICALL Java_dev_edge_Native_contextNew(JNIEnv *env, jclass cls, jlong model,
                                                        jobject p) {
    (void)cls;
    if (p == NULL) {
        throw_class(env, g_npe, "params");
        return 0;
    }
    edge_context_params params = edge_context_default_params();
    params.n_ctx = (*env)->GetIntField(env, p, f_cp_n_ctx);
    params.n_threads = (*env)->GetIntField(env, p, f_cp_n_threads);
    params.type_k = (*env)->GetIntField(env, p, f_cp_type_k);
    params.type_v = (*env)->GetIntField(env, p, f_cp_type_v);
    edge_context *ctx = NULL;
    edge_status status = edge_context_new(HANDLE(edge_model, model), &params, &ctx);
    if (status != EDGE_OK) {
        throw_edge(env, status);
        return 0;
    }
    return (jlong)(intptr_t)ctx;
}

JNIEXPORT void JNICALL Java_dev_edge_Native_contextFree(JNIEnv *env, jclass cls, jlong ctx) {
    (void)env;
    (void)cls;
    edge_context_free(HANDLE(edge_context, ctx));
}

JNIEXPORT void JNICALL Java_dev_edge_Native_contextReset(JNIEnv *env, jclass cls, jlong ctx) {
    (void)cls;
    edge_status status = edge_context_reset(HANDLE(edge_context, ctx));
    if (status != EDGE_OK) {
        throw_edge(env, status);
    }
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_contextNCtx(JNIEnv *env, jclass cls, jlong ctx) {
    (void)cls;
    return checked_int(env, edge_context_n_ctx(HANDLE(edge_context, ctx)));
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_contextNPast(JNIEnv *env, jclass cls, jlong ctx) {
    (void)cls;
    return checked_int(env, edge_context_n_past(HANDLE(edge_context, ctx)));
}

JNIEXPORT jint JNICALL Java_dev_edge_Native_contextStopReason(JNIEnv *env, jclass cls,
                                                              jlong ctx) {
    (void)env;
    (void)cls;
    return (jint)edge_context_stop_reason(HANDLE(edge_context, ctx));
}

JNIEXPORT void JNICALL Java_dev_edge_Native_decode(JNIEnv *env, jclass cls, jlong ctx,
                                                   jintArray tokens) {
    (void)cls;
    jsize n = 0;
    int32_t *ids = copy_ints(env, tokens, &n);
    if (ids == NULL) {
        return;
    }
    edge_status status = edge_decode(HANDLE(edge_context, ctx), ids, n);
    free(ids);
    if (status != EDGE_OK) {
        throw_edge(env, status);
    }
}

JNIEXPORT jfloatArray JNICALL Java_dev_edge_Native_logits(JNIEnv *env, jclass cls, jlong ctx) {
    (void)cls;
    edge_context *c = HANDLE(edge_context, ctx);
    int32_t n = 0;
    const float *logits = edge_get_logits(c, &n);
    if (logits == NULL) {
        /* NULL is also the answer of a context with no token evaluated yet, which is not
           an error: keep the message, then ask the context. */
        const char *err = edge_last_error();
        jbyteArray message = new_bytes(env, err, strlen(err));
        if (message == NULL) {
            return NULL;
        }
        int32_t past = edge_context_n_past(c);
        if (past != 0) {
            jobject ex = (*env)->NewObject(env, g_edge_exception, g_edge_exception_init,
                                           (jint)EDGE_ERR_INVALID_ARGUMENT, message);
            if (ex != NULL) {
                (*env)->Throw(env, (jthrowable)ex);
                (*env)->DeleteLocalRef(env, ex);
            }
        }
        (*env)->DeleteLocalRef(env, message);
        return NULL;
    }
    jfloatArray out = (*env)->NewFloatArray(env, n);
    if (out != NULL) {
        (*env)->SetFloatArrayRegion(env, out, 0, n, logits);
    }
    return out;
}

typedef struct {
    JNIEnv *env;
    jobject sink; /* Context.Sink */
} generate_state;

static bool on_token(const char *piece, int32_t piece_len, int32_t token, void *user_data) {
    generate_state *st = user_data;
    JNIEnv *env = st->env;
    if (pending(env)) {
        return false;
    }
    jbyteArray bytes = new_bytes(env, piece, piece_len > 0 ? (size_t)piece_len : 0);
    if (bytes == NULL) {
        return false; /* OutOfMemoryError pending */
    }
    jboolean go = (*env)->CallBooleanMethod(env, st->sink, g_sink_on_piece, bytes, (jint)token);
    (*env)->DeleteLocalRef(env, bytes);
    if (pending(env)) {
        return false; /* the callback threw: stop; the exception reaches generate's caller */
    }
    return go == JNI_TRUE;
}

JNIEXPORT void JNICALL Java_dev_edge_Native_generate(JNIEnv *env, jclass cls, jlong ctx,
                                                     jbyteArray prompt, jobject p, jobject sink) {
    (void)cls;
    if (p == NULL || sink == NULL) {
        throw_class(env, g_npe, p == NULL ? "params" : "callback");
        return;
    }
    char *cprompt = copy_bytes(env, prompt, "prompt", NULL);
    if (cprompt == NULL) {
        return;
    }
    edge_sampling_params params = read_sampling(env, p);
    generate_state st = {env, sink};
    edge_status status = edge_generate(HANDLE(edge_context, ctx), cprompt, &params, on_token, &st);
    free(cprompt);
    if (status != EDGE_OK) {
        throw_edge(env, status);
    }
}
