"""Status codes of libedge and the exceptions that carry them."""

import enum


class Status(enum.IntEnum):
    """``edge_status``: what a libedge call returned."""

    OK = 0
    INVALID_ARGUMENT = 1
    IO = 2
    FORMAT = 3
    UNSUPPORTED = 4
    OUT_OF_MEMORY = 5
    CONTEXT_FULL = 6
    CANCELLED = 7
    INTERNAL = 8


class EdgeError(Exception):
    """A libedge call failed.

    ``status`` is the :class:`Status` it returned (an ``int`` when libedge returned a code
    this package does not know), ``message`` the text of ``edge_last_error()``.
    """

    def __init__(self, status, message):
        self.status = _status(status)
        self.message = message
        name = self.status.name if isinstance(self.status, Status) else str(self.status)
        super().__init__(f"{name}: {message}" if message else name)


class InvalidArgumentError(EdgeError):
    """``EDGE_ERR_INVALID_ARGUMENT``: a NULL or out-of-range argument."""


class EdgeIOError(EdgeError):
    """``EDGE_ERR_IO``: a missing or unreadable file."""


class FormatError(EdgeError):
    """``EDGE_ERR_FORMAT``: a file that is not a valid model."""


class UnsupportedError(EdgeError):
    """``EDGE_ERR_UNSUPPORTED``: a valid file edge cannot run (architecture, tensor type)."""


class OutOfMemoryError(EdgeError):
    """``EDGE_ERR_OUT_OF_MEMORY``."""


class ContextFullError(EdgeError):
    """``EDGE_ERR_CONTEXT_FULL``: the tokens do not fit in the context."""


class CancelledError(EdgeError):
    """``EDGE_ERR_CANCELLED``: a callback asked to stop."""


class InternalError(EdgeError):
    """``EDGE_ERR_INTERNAL``: a bug inside libedge (it was caught, not crashed on)."""


_BY_STATUS = {
    Status.INVALID_ARGUMENT: InvalidArgumentError,
    Status.IO: EdgeIOError,
    Status.FORMAT: FormatError,
    Status.UNSUPPORTED: UnsupportedError,
    Status.OUT_OF_MEMORY: OutOfMemoryError,
    Status.CONTEXT_FULL: ContextFullError,
    Status.CANCELLED: CancelledError,
    Status.INTERNAL: InternalError,
}


def _status(code):
    try:
        return Status(code)
    except ValueError:
        return int(code)


def error_for(status, message):
    """The exception (of the subclass for ``status``) to raise for a failed call."""
    cls = _BY_STATUS.get(_status(status), EdgeError)
    return cls(status, message)
