"""Streaming out of ``edge_generate``: its token callback feeds a Python generator.

``edge_generate`` runs to its end before it returns, calling back once per token, so it
runs on a worker thread (ctypes releases the GIL for the call) and the callback hands each
token to the consumer through a queue. A semaphore keeps the worker at most ``LOOKAHEAD``
tokens ahead of the consumer, so a consumer that stops early wastes little work. When the
consumer stops (``break``, ``close()``, an exception, garbage collection) the next callback
returns false, which makes ``edge_generate`` return, and the worker is joined.
"""

import ctypes
import queue
import threading

from . import _lib

#: Most tokens generated ahead of the consumer.
LOOKAHEAD = 2

_DONE = object()


class Generation:
    """One running ``edge_generate`` call on a worker thread.

    ``run(on_token_cb)`` is called on the worker with the ctypes callback to pass to
    ``edge_generate``; it returns ``(status, last_error_message)``.
    """

    def __init__(self, run):
        self._run = run
        self._queue = queue.SimpleQueue()
        self._slots = threading.Semaphore(LOOKAHEAD)
        self._stop = threading.Event()
        #: True when another call on the model ended this generation.
        self.superseded = False
        self._callback = _lib.TokenCallback(self._on_token)
        self._result = None
        self._error = None
        self._thread = threading.Thread(target=self._work, name="edgerun-generate", daemon=True)

    def start(self):
        self._thread.start()

    # --- worker side -------------------------------------------------------------------
    def _on_token(self, piece, piece_len, token, _user_data):
        try:
            if self._stop.is_set():
                return False
            data = ctypes.string_at(piece, piece_len) if piece and piece_len > 0 else b""
            self._slots.acquire()
            if self._stop.is_set():
                return False
            self._queue.put((token, data))
            return True
        except BaseException as e:  # never let an exception unwind into C
            self._error = e
            return False

    def _work(self):
        try:
            self._result = self._run(self._callback)
        except BaseException as e:
            self._error = e
        finally:
            self._queue.put(_DONE)

    # --- consumer side -----------------------------------------------------------------
    def tokens(self):
        """Yields ``(token, piece_bytes)`` as they come; afterwards the worker is joined and
        the result of ``run`` is available through :meth:`result`."""
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    break
                self._slots.release()
                yield item
        finally:
            self.stop()

    def stop(self):
        """Asks the worker to stop at its next token and waits for it."""
        self._stop.set()
        # Wake a worker waiting for a free slot; it sees the stop flag.
        self._slots.release()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def supersede(self):
        """Stops the generation because another call needs the context."""
        if not self._stop.is_set() and self._thread.is_alive():
            self.superseded = True
        self.stop()

    def result(self):
        """``(status, message)`` of the finished call; re-raises an exception raised on
        the worker."""
        if self._error is not None:
            raise self._error
        return self._result
