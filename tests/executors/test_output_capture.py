"""Output capture: the bounded run log, the stream proxies and the logging handler."""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickwork.executors import capture
from tickwork.executors.capture import RunLog
from tickwork.executors.redact import redactor

MARKER = re.compile(r"\[\.\.\. (\d+) bytes cut \.\.\.\]\n")


@pytest.fixture
def installed() -> Iterator[None]:
    capture.acquire()
    try:
        yield
    finally:
        capture.release()


def test_a_log_within_its_limit_is_kept_whole() -> None:
    log = RunLog(100)
    log.write("hello ")
    log.write("world\n")
    assert log.text() == "hello world\n"
    assert log.close() == "hello world\n"
    log.write("after the end")
    assert log.close() == "hello world\n"


def test_the_tail_is_kept_behind_a_marker_within_the_limit() -> None:
    log = RunLog(50)
    for i in range(100):
        log.write(f"{i:03d}\n")
    text = log.close()
    assert len(text.encode()) <= 50
    match = MARKER.match(text)
    assert match is not None
    tail = text[match.end() :]
    assert tail.endswith("099\n")
    assert int(match.group(1)) + len(tail) == 400


def test_limits_count_utf8_bytes_and_never_split_a_character() -> None:
    log = RunLog(40)
    log.write("é" * 100)  # 200 bytes
    text = log.close()
    assert len(text.encode()) <= 40
    match = MARKER.match(text)
    assert match is not None
    assert set(text[match.end() :]) == {"é"}


def test_a_long_log_is_compacted_while_written() -> None:
    log = RunLog(1000)
    for _ in range(10_000):
        log.write("x" * 99 + "\n")
    assert log._size <= 2 * 1000 + 4096 + 100  # memory stays bounded by the limit
    text = log.close()
    match = MARKER.match(text)
    assert match is not None
    assert int(match.group(1)) + len(text) - match.end() == 1_000_000


def test_a_secret_split_across_writes_is_masked() -> None:
    log = RunLog(1000, redactor(["hunter2"]))
    log.write("password: hun")
    log.write("ter2\n")
    assert log.close() == "password: ******\n"


SECRET = "S3CR3TVALUE"


class _EagerLog(RunLog):
    """Compacts as soon as it holds twice its limit, so short examples compact often."""

    compact_after = 0


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(["ab", "c\n", "dd dd", SECRET, "é"]), max_size=300),
    cuts=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=20),
    limit=st.integers(min_value=0, max_value=300),
)
def test_no_piece_of_a_secret_survives_any_split_or_cut(
    pieces: list[str], cuts: list[int], limit: int
) -> None:
    stream = "".join(pieces)
    redact = redactor([SECRET])
    assert redact is not None
    log = _EagerLog(limit, redact)
    position, i = 0, 0
    while position < len(stream):
        step = cuts[i % len(cuts)]
        log.write(stream[position : position + step])
        position += step
        i += 1
    text = log.close()
    match = MARKER.match(text)
    body = text[match.end() :] if match else text
    assert not set(body) & set(SECRET), text
    assert redact(stream).endswith(body)
    # Within the limit, except that the marker is always kept whole.
    assert len(text.encode()) <= max(limit, len(match.group(0)) if match else 0)


def test_run_output_goes_to_the_sink_and_other_output_to_the_stream(installed: None) -> None:
    real = io.StringIO()
    proxy = capture._StreamProxy(real)
    log = RunLog(1000)
    proxy.write("before\n")
    token = capture.activate(log)
    try:
        assert proxy.write("inside\n") == len("inside\n")
        proxy.writelines(["a\n", "b\n"])
        proxy.flush()
        other = threading.Thread(target=proxy.write, args=("other thread\n",))
        other.start()
        other.join()
    finally:
        capture.deactivate(token)
    proxy.write("after\n")
    assert log.close() == "inside\na\nb\n"
    assert real.getvalue() == "before\nother thread\nafter\n"
    assert proxy.getvalue() == real.getvalue()  # anything else is the real stream's


def test_log_records_of_a_run_are_formatted_into_its_log(installed: None) -> None:
    logger = logging.getLogger("tickwork.tests.capture")
    log = RunLog(10_000)
    token = capture.activate(log)
    try:
        logger.warning("careful %s", "now")
        try:
            raise KeyError("k")
        except KeyError:
            logger.exception("it failed")
        logger.debug("below the level: not a record at all")
    finally:
        capture.deactivate(token)
    text = log.close()
    lines = text.splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING tickwork.tests.capture: careful now",
        lines[0],
    )
    assert lines[1].endswith(" ERROR tickwork.tests.capture: it failed")
    assert "Traceback (most recent call last):" in text
    assert text.endswith("KeyError: 'k'\n")


def test_records_of_other_threads_still_reach_logging_s_last_resort(
    installed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    others = [h for h in root.handlers if h is not capture._Installed.handler]
    for handler in others:  # make ours the only handler, as in an unconfigured program
        root.removeHandler(handler)
    try:
        logging.getLogger("tickwork.tests.lastresort").warning("nobody configured logging")
        logging.getLogger("tickwork.tests.lastresort").info("below the last resort's level")
    finally:
        for handler in others:
            root.addHandler(handler)
    assert capsys.readouterr().err == "nobody configured logging\n"


def test_release_restores_the_streams_and_removes_the_handler() -> None:
    stdout, stderr = sys.stdout, sys.stderr
    capture.acquire()
    capture.acquire()
    capture.release()
    assert capture.installed()
    assert isinstance(sys.stdout, capture._StreamProxy)
    capture.release()
    assert not capture.installed()
    assert sys.stdout is stdout
    assert sys.stderr is stderr
    assert capture._Installed.handler is None
    assert not any(isinstance(h, capture._RunLogHandler) for h in logging.getLogger().handlers)
    capture.release()  # one too many is harmless


def test_a_sink_must_be_given_text() -> None:
    with pytest.raises(TypeError, match="must be str, not bytes"):
        RunLog(10).write(b"bytes")  # type: ignore[arg-type]
