"""``Model``: a loaded GGUF model and one context to generate with."""

import array
import ctypes
import os
import threading
from ctypes import byref, c_char_p, c_float, c_int32

from . import _lib
from ._stream import Generation
from .errors import CancelledError, InvalidArgumentError, Status, error_for


def _last_error(lib):
    msg = lib.edge_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def _check(lib, status):
    """Raises the EdgeError for ``status`` (with this thread's last-error message)."""
    if status != Status.OK:
        raise error_for(status, _last_error(lib))


def _bytes(text, what):
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray)):
        return bytes(text)
    raise TypeError(f"{what} must be str or bytes, not {type(text).__name__}")


def version():
    """The version of the loaded libedge (``edge_version()``)."""
    return _lib.load().edge_version().decode("utf-8", "replace")


class Model:
    """A GGUF model loaded by libedge, with one context (its KV cache) to generate with.

    ``Model(path, n_ctx=None, n_threads=None, use_mmap=None, progress=None, type_k=None,
    type_v=None)``: ``n_ctx`` is the context size in tokens and ``n_threads`` the number of
    threads (``None``: libedge's defaults), ``use_mmap`` whether to map the file rather than
    read it, ``progress`` a function called with the load progress (0.0 to 1.0) that may
    return ``False`` to cancel the load (:class:`~edgerun.CancelledError`). ``type_k`` and
    ``type_v`` are the element types of the context's cached keys and values, named as
    llama.cpp's ``--cache-type-k``/``--cache-type-v``: ``"f16"`` (``None``: libedge's
    default) or ``"q8_0"`` (about half the memory; needs a model whose attention heads are
    a multiple of 32 wide, else :class:`~edgerun.InvalidArgumentError`); another name is a
    ``ValueError``. Raises :class:`~edgerun.EdgeError` (``status`` ``IO`` for a missing
    file, ``FORMAT`` for one that is not a valid model, ``UNSUPPORTED`` for one edge cannot
    run).

    Use it as a context manager or call :meth:`close`. Methods that only read the model
    (tokenizing, metadata) may be called from several threads; the context (generation,
    :meth:`decode`) serves one generation at a time: starting one, or calling
    :meth:`decode`, :meth:`reset` or :meth:`logits`, ends a generation still open on this
    model.
    """

    def __init__(
        self,
        path,
        *,
        n_ctx=None,
        n_threads=None,
        use_mmap=None,
        progress=None,
        type_k=None,
        type_v=None,
    ):
        self._model = None
        self._ctx = None
        self._ctx_lock = threading.Lock()
        self._active = None
        # Checked before anything is loaded.
        cache_types = {
            "type_k": _cache_type(type_k, "type_k"),
            "type_v": _cache_type(type_v, "type_v"),
        }
        self._lib = lib = _lib.load()

        params = lib.edge_model_default_params()
        if n_threads is not None:
            params.n_threads = n_threads
        if use_mmap is not None:
            params.use_mmap = bool(use_mmap)
        raised = []
        if progress is not None:

            def on_progress(fraction, _user_data):
                try:
                    return progress(fraction) is not False
                except BaseException as e:  # never let an exception unwind into C
                    raised.append(e)
                    return False

            callback = _lib.ProgressCallback(on_progress)
            params.progress = callback

        model = _lib.ModelPtr()
        status = lib.edge_model_load(os.fsencode(path), byref(params), byref(model))
        if raised:
            raise raised[0]
        _check(lib, status)
        self._model = model

        cparams = lib.edge_context_default_params()
        if n_ctx is not None:
            cparams.n_ctx = n_ctx
        if n_threads is not None:
            cparams.n_threads = n_threads
        for field, code in cache_types.items():
            if code is not None:
                setattr(cparams, field, code)
        ctx = _lib.ContextPtr()
        status = lib.edge_context_new(model, byref(cparams), byref(ctx))
        if status != Status.OK:
            err = error_for(status, _last_error(lib))
            self.close()
            raise err
        self._ctx = ctx

    # --- lifetime ------------------------------------------------------------------------
    def close(self):
        """Ends an open generation and frees the context and the model. Idempotent."""
        self._end_generation()
        with self._ctx_lock:
            ctx, self._ctx = self._ctx, None
            model, self._model = self._model, None
            if ctx:
                self._lib.edge_context_free(ctx)
            if model:
                self._lib.edge_model_free(model)

    @property
    def closed(self):
        """Whether :meth:`close` was called."""
        return self._model is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _handle(self):
        if self._model is None:
            raise ValueError("edgerun: the model is closed")
        return self._model

    def _context(self):
        if self._ctx is None:
            raise ValueError("edgerun: the model is closed")
        return self._ctx

    # --- the model -----------------------------------------------------------------------
    @property
    def n_vocab(self):
        """Number of tokens in the vocabulary."""
        return self._lib.edge_model_n_vocab(self._handle())

    @property
    def n_ctx_train(self):
        """The context length the model was trained with."""
        return self._lib.edge_model_n_ctx_train(self._handle())

    @property
    def n_embd(self):
        """The width of the embeddings."""
        return self._lib.edge_model_n_embd(self._handle())

    @property
    def n_layer(self):
        """The number of transformer layers."""
        return self._lib.edge_model_n_layer(self._handle())

    @property
    def metadata(self):
        """Every GGUF metadata entry whose value is not an array, as ``{key: text}`` in
        file order (numbers in decimal, booleans as ``true``/``false``)."""
        model = self._handle()
        out = {}
        for i in range(self._lib.edge_model_meta_count(model)):
            key = self._text_getter(
                lambda b, n: self._lib.edge_model_meta_key_by_index(model, i, b, n)
            )
            value = self._text_getter(
                lambda b, n: self._lib.edge_model_meta_val_str_by_index(model, i, b, n)
            )
            if key is not None and value is not None:
                out[key] = value
        return out

    @staticmethod
    def _text_getter(get):
        size = 256
        while True:
            buf = ctypes.create_string_buffer(size)
            n = get(buf, size)
            if n < 0:
                return None
            if n < size:
                return buf.raw[:n].decode("utf-8", "replace")
            size = n + 1

    def meta(self, key, default=None):
        """The GGUF metadata value under ``key`` as a string (``default`` when missing)."""
        model = self._handle()
        key_b = _bytes(key, "key")
        value = self._text_getter(lambda b, n: self._lib.edge_model_meta_str(model, key_b, b, n))
        return default if value is None else value

    def tokenize(self, text, add_special=True, parse_special=True):
        """The token ids of ``text`` (str or UTF-8 bytes).

        ``add_special``: add BOS (and EOS) where the model asks for them;
        ``parse_special``: turn special-token text such as ``<|im_start|>`` into its token.
        """
        model = self._handle()
        data = _bytes(text, "text")
        n_max = len(data) + 8
        while True:
            tokens = (c_int32 * n_max)()
            n = self._lib.edge_tokenize(
                model, data, len(data), tokens, n_max, bool(add_special), bool(parse_special)
            )
            if n >= 0:
                return list(tokens[:n])
            if n == _lib.INT32_MIN or -n <= n_max:
                _check(self._lib, Status.INVALID_ARGUMENT)
            n_max = -n

    def token_to_piece(self, token):
        """The bytes of one token (special tokens as their text; a piece may be part of a
        UTF-8 character). Raises :class:`~edgerun.InvalidArgumentError` for an id outside
        the vocabulary."""
        model = self._handle()
        size = 32
        while True:
            buf = ctypes.create_string_buffer(size)
            n = self._lib.edge_token_to_piece(model, _int32(token, "token"), buf, size)
            if n >= 0:
                return buf.raw[:n]
            if n == _lib.INT32_MIN or -n <= size:
                _check(self._lib, Status.INVALID_ARGUMENT)
            size = -n

    def detokenize(self, tokens, remove_special=False, unparse_special=True):
        """The text of a list of token ids, as llama.cpp's detokenizer writes it (invalid
        UTF-8 replaced by U+FFFD). ``remove_special``: drop a leading BOS and a trailing EOS
        where the model adds them; ``unparse_special``: write control tokens as their text
        (else drop them)."""
        model = self._handle()
        ids = [_int32(t, "token") for t in tokens]
        arr = (c_int32 * max(len(ids), 1))(*ids)
        size = 8 * len(ids) + 64
        while True:
            buf = ctypes.create_string_buffer(size)
            n = self._lib.edge_detokenize(
                model, arr, len(ids), buf, size, bool(remove_special), bool(unparse_special)
            )
            if n >= 0:
                return buf.raw[:n].decode("utf-8", "replace")
            if n == _lib.INT32_MIN or -n <= size:
                _check(self._lib, Status.INVALID_ARGUMENT)
            size = -n

    @property
    def token_bos(self):
        """The beginning-of-sequence token, or ``None``."""
        t = self._lib.edge_token_bos(self._handle())
        return t if t >= 0 else None

    @property
    def token_eos(self):
        """The end-of-sequence token, or ``None``."""
        t = self._lib.edge_token_eos(self._handle())
        return t if t >= 0 else None

    def token_is_eog(self, token):
        """Whether ``token`` ends a generation (EOS, end of turn)."""
        return bool(self._lib.edge_token_is_eog(self._handle(), _int32(token, "token")))

    def apply_chat_template(self, messages, add_generation_prompt=True):
        """``messages`` (``[{"role": ..., "content": ...}, ...]``) rendered with the
        model's chat template, with the assistant's turn opened when
        ``add_generation_prompt``."""
        model = self._handle()
        n = len(messages)
        roles = (c_char_p * max(n, 1))()
        contents = (c_char_p * max(n, 1))()
        for i, message in enumerate(messages):
            try:
                role, content = message["role"], message["content"]
            except (KeyError, TypeError):
                raise TypeError(
                    f"message {i} must be a mapping with 'role' and 'content'"
                ) from None
            roles[i] = _bytes(role, "role")
            contents[i] = _bytes(content, "content")
        size = 1024
        while True:
            buf = ctypes.create_string_buffer(size)
            needed = self._lib.edge_chat_apply_template(
                model, roles, contents, n, bool(add_generation_prompt), buf, size
            )
            if needed < 0:
                # The template refused the conversation (or an argument was bad).
                _check(self._lib, Status.INVALID_ARGUMENT)
            if needed < size:
                return buf.raw[:needed].decode("utf-8", "replace")
            size = needed + 1

    # --- the context ---------------------------------------------------------------------
    def _end_generation(self):
        active, self._active = self._active, None
        if active is not None:
            active.supersede()

    @property
    def n_ctx(self):
        """The number of positions of the context."""
        self._end_generation()
        with self._ctx_lock:
            return self._lib.edge_context_n_ctx(self._context())

    @property
    def n_past(self):
        """The number of tokens in the context."""
        self._end_generation()
        with self._ctx_lock:
            return self._lib.edge_context_n_past(self._context())

    @property
    def stop_reason(self):
        """Why the last generation ended: ``"eog"`` (an end-of-generation token),
        ``"max_tokens"``, ``"context_full"``, ``"callback"`` (stopped early), or ``"none"``
        (no generation yet, or it failed)."""
        with self._ctx_lock:
            code = self._lib.edge_context_stop_reason(self._context())
        return _STOP_REASONS.get(code, "none")

    def reset(self):
        """Forgets every token in the context (ends an open generation)."""
        self._end_generation()
        with self._ctx_lock:
            _check(self._lib, self._lib.edge_context_reset(self._context()))

    def decode(self, tokens):
        """Evaluates ``tokens`` after those already in the context (ends an open
        generation). Raises :class:`~edgerun.ContextFullError` when they do not fit; the
        context is then unchanged."""
        self._end_generation()
        ids = list(tokens)
        arr = (c_int32 * max(len(ids), 1))(*ids)
        with self._ctx_lock:
            _check(self._lib, self._lib.edge_decode(self._context(), arr, len(ids)))

    def logits(self):
        """The logits after the last decoded token, as an ``array('f')`` of ``n_vocab``
        floats (a copy), or ``None`` before any decode."""
        self._end_generation()
        with self._ctx_lock:
            n = c_int32(0)
            ptr = self._lib.edge_get_logits(self._context(), byref(n))
            if not ptr:
                return None
            out = array.array("f")
            out.frombytes(ctypes.string_at(ptr, n.value * ctypes.sizeof(c_float)))
            return out

    def sampling_params(self, **params):
        """libedge's default sampling parameters (``edge_sampling_default_params()``) with
        the given fields replaced, as a dict. ``None`` values keep the default."""
        sp = self._make_sampling(params)
        return {name: getattr(sp, name) for name, _ in sp._fields_}

    def _make_sampling(self, params):
        sp = self._lib.edge_sampling_default_params()
        fields = {name for name, _ in sp._fields_}
        for name, value in params.items():
            if name not in fields:
                raise TypeError(
                    f"unknown sampling parameter {name!r} (known: {', '.join(sorted(fields))})"
                )
            if value is not None:
                setattr(sp, name, value)
        return sp

    def generate_tokens(
        self,
        prompt,
        *,
        max_tokens=None,
        temperature=None,
        top_k=None,
        top_p=None,
        min_p=None,
        repeat_penalty=None,
        seed=None,
        reset=True,
        **params,
    ):
        """Like :meth:`generate`, but yields ``(token_id, piece)`` pairs: ``piece`` is the
        UTF-8 text this token completes (``b""`` when it ends inside a character, whose
        bytes then come with a later token); a last pair with token -1 may bring the bytes
        of an unfinished character as U+FFFD."""
        sp = self._make_sampling(
            dict(
                params,
                max_tokens=max_tokens,
                temperature=temperature,
                top_k=top_k,
                top_p=top_p,
                min_p=min_p,
                repeat_penalty=repeat_penalty,
                seed=seed,
            )
        )
        prompt_b = _bytes(prompt, "prompt")
        self._context()
        return self._stream(prompt_b, sp, bool(reset))

    def _stream(self, prompt_b, sp, reset):
        lib = self._lib

        def run(callback):
            with self._ctx_lock:
                ctx = self._context()
                status = lib.edge_context_reset(ctx) if reset else Status.OK
                if status == Status.OK:
                    status = lib.edge_generate(ctx, prompt_b, byref(sp), callback, None)
                # The last error is per thread: read it on the thread that called.
                return status, (_last_error(lib) if status != Status.OK else "")

        self._end_generation()
        generation = Generation(run)
        self._active = generation
        generation.start()
        try:
            yield from generation.tokens()
        finally:
            if self._active is generation:
                self._active = None
        if generation.superseded:
            raise CancelledError(
                Status.CANCELLED, "a newer call on the same model ended this generation"
            )
        status, message = generation.result()
        if status != Status.OK:
            raise error_for(status, message)

    def generate(self, prompt, **kwargs):
        """Continues ``prompt`` (special-token text parsed, BOS as the model asks), yielding
        the new text piece by piece as it is generated (a character split across tokens
        comes out whole, with the later token).

        Keyword arguments: ``max_tokens`` (libedge's default 256; negative: until an
        end-of-generation token or a full context), ``temperature`` (0 is greedy),
        ``top_k``, ``top_p``, ``min_p``, ``repeat_penalty``, ``seed``, and the other fields
        of ``edge_sampling_params`` (``repeat_last_n``, ``frequency_penalty``,
        ``presence_penalty``); ``None`` or absent keeps libedge's default. ``reset``
        (default ``True``) starts from an empty context; ``False`` continues after what the
        context holds (the previous prompt and generated text).

        Breaking out of the loop (or closing the generator) stops the generation at the
        next token. A generation stops at an end-of-generation token, after ``max_tokens``,
        or when the context is full (:attr:`stop_reason` says which); a prompt that does
        not fit raises :class:`~edgerun.ContextFullError`.
        """
        return _text(self.generate_tokens(prompt, **kwargs))

    def chat(self, messages, **kwargs):
        """Applies the model's chat template to ``messages`` (``[{"role": ..., "content":
        ...}]``), opens the assistant's turn and generates its answer from an empty
        context, yielding text pieces like :meth:`generate` (same keyword arguments but
        ``reset``)."""
        prompt = self.apply_chat_template(messages, add_generation_prompt=True)
        return self.generate(prompt, **kwargs)


_STOP_REASONS = {0: "none", 1: "eog", 2: "max_tokens", 3: "context_full", 4: "callback"}


def _cache_type(name, what):
    """The ``edge_cache_type`` value of a cache type name (``None`` stays ``None``)."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str ('f16' or 'q8_0'), not {type(name).__name__}")
    code = _lib.CACHE_TYPES.get(name.lower())
    if code is None:
        known = ", ".join(repr(n) for n in _lib.CACHE_TYPES)
        raise ValueError(f"edgerun: unknown KV cache type {name!r} for {what} (known: {known})")
    return code


def _int32(value, what):
    value = int(value)
    if not -(2**31) <= value < 2**31:
        raise InvalidArgumentError(Status.INVALID_ARGUMENT, f"{what} {value} is out of range")
    return value


def _text(tokens):
    # libedge hands out whole UTF-8 characters (an empty piece when a token ends inside
    # one), so each piece decodes on its own.
    for _token, piece in tokens:
        if piece:
            yield piece.decode("utf-8", "replace")
