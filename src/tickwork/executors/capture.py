"""Per-run output capture: ``logging`` records and ``sys.stdout``/``sys.stderr`` writes.

A run's output goes to the sink held in a context variable for the duration of the run. A
root-logger handler and stream proxies, installed once while any executor uses them
(:func:`acquire` / :func:`release`), route what a running run emits to its sink and leave
everything else alone: writes of other threads reach the real streams, and records of other
threads reach the other handlers (or :data:`logging.lastResort` when ours is the only one).

Context variables are per thread and copied into asyncio tasks and ``asyncio.to_thread``, so
concurrent runs never see each other's output. Threads a target starts itself begin with an
empty context: their output goes to the real streams.
"""

from __future__ import annotations

import logging
import sys
import threading
from contextvars import ContextVar, Token
from typing import Protocol, TextIO, cast

from tickwork.executors.redact import Redactor

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Python 3.11 formats tracebacks with ast (for the ^^^ markers), and two threads doing so at
# once can fail with "SystemError: AST constructor recursion depth mismatch" (seen on 3.11.7,
# see CPython gh-106905): concurrent runs take turns formatting theirs.
TRACEBACK_LOCK = threading.Lock()


class Sink(Protocol):
    """Where a run's output goes."""

    def write(self, text: str, /) -> None: ...


_sink: ContextVar[Sink | None] = ContextVar("tickwork_run_output", default=None)
_current_sink = _sink.get


def activate(sink: Sink) -> Token[Sink | None]:
    """Send this context's output to ``sink`` until :func:`deactivate`."""
    ensure_streams()
    return _sink.set(sink)


def deactivate(token: Token[Sink | None]) -> None:
    _sink.reset(token)


def current_redactor() -> Redactor | None:
    """The secret masker of the run running in this context (None outside runs)."""
    sink = _current_sink()
    return sink.redactor if isinstance(sink, RunLog) else None


class MaskRunSecrets(logging.Filter):
    """A handler filter for the process's own log (a server's stderr): a record emitted by a
    running run has that run's secrets masked, as they are in the run's captured log. A job
    logging its password from a thread executor would otherwise put it in the server log."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact = current_redactor()
        if redact is not None:
            message = record.getMessage()
            masked = redact(message)
            if masked != message:
                record.msg, record.args = masked, None
            if record.exc_info and not record.exc_text:
                with TRACEBACK_LOCK:
                    record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
        return True


def clear() -> None:
    """Forget any sink of this context (a worker's safety net between runs)."""
    if _current_sink() is not None:
        _sink.set(None)


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _tail_bytes(text: str, keep: int) -> str:
    """The last ``keep`` UTF-8 bytes of ``text`` (a character cut in half is dropped)."""
    if keep <= 0:
        return ""
    if text.isascii():
        return text[-keep:]
    data = text.encode("utf-8", "surrogatepass")
    return data[-keep:].decode("utf-8", "ignore")


class RunLog:
    """The captured log of one run, bounded to ``limit`` UTF-8 bytes with the tail kept.

    Writes are buffered as chunks; when they exceed twice the limit the buffer is compacted:
    joined, redacted and cut to its tail. Redacting *before* cutting means a cut never splits
    a secret into an unmaskable piece; a secret split across writes is still joined before it
    is masked. :meth:`close` gives the final text and drops later writes (a timed-out thread
    may still be printing).
    """

    __slots__ = ("_chunks", "_closed", "_cut", "_limit", "_lock", "_redact", "_size", "_slack")

    compact_after = 4096  # bytes beyond twice the limit before a compaction (amortises it)

    def __init__(self, limit: int, redact: Redactor | None = None) -> None:
        self._limit = max(0, limit)
        self._redact = redact
        # A compaction keeps this much more than the limit: a secret still being written at
        # the cut point stays whole, to be masked once complete.
        self._slack = 0 if redact is None else redact.longest
        self._chunks: list[str] = []
        self._size = 0  # bytes in _chunks
        self._cut = 0  # bytes dropped from the front so far
        self._closed = False
        self._lock = threading.Lock()

    @property
    def redactor(self) -> Redactor | None:
        return self._redact

    def write(self, text: str, /) -> None:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return
        with self._lock:
            if self._closed:
                return
            self._chunks.append(text)
            self._size += _utf8_len(text)
            if self._size > 2 * self._limit + self.compact_after + self._slack:
                self._compact(self._limit + self._slack)

    def _compact(self, keep: int) -> str:
        text = "".join(self._chunks)
        if self._redact is not None:
            text = self._redact(text)
        size = _utf8_len(text)
        if size > keep:
            text = _tail_bytes(text, keep)
            kept = _utf8_len(text)
            self._cut += size - kept
            size = kept
        self._chunks = [text] if text else []
        self._size = size
        return text

    def text(self) -> str:
        """The log so far: redacted, at most ``limit`` bytes, a marker first if cut."""
        with self._lock:
            return self._final()

    def close(self) -> str:
        """The final log; later writes are ignored."""
        with self._lock:
            if not self._closed:
                final = self._final()
                self._closed = True
                self._chunks = [final]
                return final
            return self._chunks[0] if self._chunks else ""

    def _final(self) -> str:
        if self._closed:
            return self._chunks[0] if self._chunks else ""
        text = self._compact(self._limit + self._slack) if self._chunks else ""
        if not self._cut and self._size <= self._limit:
            return text
        # Make room for the marker within the limit; its number only grows by what we drop.
        reserve = len(f"[... {self._cut + self._size} bytes cut ...]\n")
        tail = _tail_bytes(text, self._limit - reserve)
        cut = self._cut + self._size - _utf8_len(tail)
        return f"[... {cut} bytes cut ...]\n{tail}"


class _StreamProxy:
    """Stands in for ``sys.stdout``/``sys.stderr``: a running run's writes go to its sink."""

    def __init__(self, original: TextIO) -> None:
        self._original = original

    def write(self, text: str) -> int:
        sink = _current_sink()
        if sink is None:
            return self._original.write(text)
        sink.write(text)
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if _current_sink() is None:
            self._original.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self._original, name)


class _RunLogHandler(logging.Handler):
    """Root handler formatting the records of a running run into its sink."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: formatting is thread-safe and each sink has its own lock.
        sink = _current_sink()
        if sink is None:
            self._last_resort(record)
            return False
        if not self.filter(record):
            return False
        try:
            if record.exc_info or record.stack_info:
                with TRACEBACK_LOCK:
                    text = self.format(record)
            else:
                text = self.format(record)
        except Exception:
            self.handleError(record)
            return False
        sink.write(text + "\n")
        return True

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - handle() overrides
        self.handle(record)

    def _last_resort(self, record: logging.LogRecord) -> None:
        """Keep logging's no-handler fallback alive: our handler must not swallow it."""
        last = logging.lastResort
        if last is None or record.levelno < last.level:
            return
        logger: logging.Logger | None = (
            logging.getLogger(record.name) if record.name != "root" else logging.root
        )
        while logger is not None:
            if any(h is not self for h in logger.handlers):
                return
            if not logger.propagate:
                break
            logger = logger.parent
        last.handle(record)


class _Installed:
    """What :func:`acquire` put in place, and how many executors use it."""

    lock = threading.Lock()
    users = 0
    handler: _RunLogHandler | None = None
    stdout: _StreamProxy | None = None
    stderr: _StreamProxy | None = None


def acquire() -> None:
    """Install the handler and stream proxies (reference counted; one per started executor)."""
    with _Installed.lock:
        _Installed.users += 1
        if _Installed.users == 1:
            _Installed.handler = _RunLogHandler()
            logging.getLogger().addHandler(_Installed.handler)
            _wrap_streams()


def release() -> None:
    """Undo one :func:`acquire`; the last one uninstalls everything."""
    with _Installed.lock:
        if _Installed.users == 0:
            return
        _Installed.users -= 1
        if _Installed.users:
            return
        if _Installed.handler is not None:
            logging.getLogger().removeHandler(_Installed.handler)
            _Installed.handler = None
        sys.stdout = cast(TextIO, _unwrap(sys.stdout))
        sys.stderr = cast(TextIO, _unwrap(sys.stderr))
        _Installed.stdout = _Installed.stderr = None


def installed() -> bool:
    return _Installed.users > 0


def ensure_streams() -> None:
    """Re-wrap the streams if someone replaced them since (cheap when nothing changed).

    Test runners and ``contextlib.redirect_stdout`` swap ``sys.stdout`` while we are
    installed; each run start checks, so a run's prints are still captured afterwards.
    """
    if (sys.stdout is _Installed.stdout and sys.stderr is _Installed.stderr) or not (
        _Installed.users
    ):
        return
    with _Installed.lock:
        if _Installed.users:
            _wrap_streams()


def _wrap_streams() -> None:
    _Installed.stdout = _wrapped(sys.stdout)
    _Installed.stderr = _wrapped(sys.stderr)
    if _Installed.stdout is not None:
        sys.stdout = cast(TextIO, _Installed.stdout)
    if _Installed.stderr is not None:
        sys.stderr = cast(TextIO, _Installed.stderr)


def _wrapped(stream: TextIO | None) -> _StreamProxy | None:
    if stream is None:  # pythonw and friends: nothing to capture into or restore
        return None
    if isinstance(stream, _StreamProxy):
        return stream
    return _StreamProxy(stream)


def _unwrap(stream: object) -> object:
    while isinstance(stream, _StreamProxy):
        stream = stream._original
    return stream
