"""Running a command as a child process that leaves nothing behind (shell and script kinds).

The command leads a process group of its own; everything it starts joins that group unless it
leaves on purpose (``setsid``, a daemon). The group is ended whenever the run ends: when the
command exits (a background ``sleep 1000 &`` does not outlive it), on a timeout or a cancel
(``stop()``), and if anything here fails: SIGTERM to the whole group, then SIGKILL for what is
left after a grace period. Cronicle, Rundeck and Dkron kill only the process they started and
leave its children running.

stdout and stderr stream into the run's log as they are written (the executor bounds it and
keeps the tail); the result keeps the exit code and the tail of each stream.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tickwork.targets.base import Execution, Output, TargetFailed

KILL_GRACE_S = 2.0  # between SIGTERM and SIGKILL
TAIL_CHARS = 4000  # of stdout and of stderr, kept in the result
_POLL_S = 0.05  # how often the wait looks at stop requests


def signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


def group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. A zombie does not count: an orphan's
    parent (init in a container) may take its time to reap it, and it runs nothing."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member changed its user: it is there
        return True
    return _live_member(pgid)


def _live_member(pgid: int) -> bool:
    """Linux: whether /proc shows a member of the group that is not a zombie (elsewhere,
    without /proc, any member counts)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after "pid (comm)": state, ppid, pgrp
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def end_group(pgid: int, grace_s: float, reap: Callable[[], object] | None = None) -> None:
    """SIGTERM to the group, SIGKILL after ``grace_s`` for whatever is left. ``reap`` is
    called while waiting (the leader must be reaped or it stays in the group as a zombie)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if reap is not None:
            reap()
        if not group_alive(pgid):
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    if reap is not None:
        reap()


class _Tail:
    """The last characters of a stream (for the result)."""

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 4 * TAIL_CHARS:
            joined = "".join(self.parts)[-TAIL_CHARS:]
            self.parts, self.size = [joined], len(joined)

    def text(self) -> str:
        joined = "".join(self.parts)
        return joined if len(joined) <= TAIL_CHARS else joined[-TAIL_CHARS:]


class ProcessExecution(Execution):
    """One command: argv, a clean environment, a working directory, accepted exit codes."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | None = None,
        ok_exit_codes: Sequence[int] = (0,),
        user: int | None = None,
        group: int | None = None,
        grace_s: float = KILL_GRACE_S,
        describe: str = "the command",
        cleanup: Callable[[], None] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.ok_exit_codes = tuple(ok_exit_codes)
        self.user = user
        self.group = group
        self.grace_s = grace_s
        self.describe = describe
        self.cleanup = cleanup
        self.pid: int | None = None  # of the command, also its process group id
        self._stop = threading.Event()
        self._stopped_by: str | None = None

    def stop(self) -> None:
        self._stop.set()

    def run(self, out: Output) -> Any:
        try:
            return self._run(out)
        finally:
            if self.cleanup is not None:
                self.cleanup()

    def _run(self, out: Output) -> Any:
        extra: dict[str, Any] = {}
        if self.user is not None:
            extra = {"user": self.user, "group": self.group, "extra_groups": []}
        try:
            proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.env,
                cwd=self.cwd,
                close_fds=True,
                process_group=0,  # its own group: what it starts can be ended with it
                **extra,
            )
        except OSError as exc:
            raise TargetFailed(f"{self.describe} could not start: {exc.strerror or exc}") from None
        self.pid = proc.pid
        tails = {"stdout": _Tail(), "stderr": _Tail()}
        try:
            self._pump(proc, out, tails)
        finally:
            # Whatever happened (the command ended, a stop, an error here): nothing of its
            # group survives. Retried if something interrupts the ending itself.
            for _ in range(3):
                try:
                    end_group(proc.pid, self.grace_s, proc.poll)
                    break
                except BaseException:
                    continue
            with contextlib.suppress(BaseException):
                proc.wait(1.0)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        code = proc.returncode
        result = {
            "exit_code": code,
            "stdout": tails["stdout"].text(),
            "stderr": tails["stderr"].text(),
        }
        if self._stop.is_set():
            raise TargetFailed(f"{self.describe} was stopped", result)
        if code is None or code < 0:
            how = "did not exit" if code is None else f"was killed by {signal_name(-code)}"
            raise TargetFailed(f"{self.describe} {how}", result)
        if code not in self.ok_exit_codes:
            shown = ", ".join(str(c) for c in self.ok_exit_codes)
            raise TargetFailed(
                f"{self.describe} exited with code {code} (accepted: {shown})", result
            )
        return result

    def _pump(self, proc: subprocess.Popen[bytes], out: Output, tails: dict[str, _Tail]) -> None:
        """Stream both pipes into the log until the command exits (or a stop). The exit wakes
        the wait at once through a pidfd (Linux 5.3+); elsewhere it is polled."""
        selector = selectors.DefaultSelector()
        decoders = {}
        pipes = 0
        for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            if stream is not None:
                os.set_blocking(stream.fileno(), False)
                selector.register(stream, selectors.EVENT_READ, name)
                decoders[name] = codecs.getincrementaldecoder("utf-8")("replace")
                pipes += 1
        pidfd = _pidfd(proc.pid)
        if pidfd is not None:
            selector.register(pidfd, selectors.EVENT_READ, None)
        exited_at: float | None = None
        try:
            while True:
                if self._stop.is_set():
                    return
                if exited_at is None and proc.poll() is not None:
                    # The command is done; its background children must not keep the
                    # pipes (and the run) open: end the group, then drain what is left.
                    end_group(proc.pid, self.grace_s, proc.poll)
                    exited_at = time.monotonic()
                    if pidfd is not None:
                        selector.unregister(pidfd)
                if exited_at is not None and (pipes == 0 or time.monotonic() - exited_at > 1.0):
                    return  # all read (or a process outside the group holds a pipe)
                for key, _ in selector.select(_POLL_S):
                    name = key.data
                    if name is None:  # the pidfd: the command exited
                        continue
                    try:
                        data = os.read(key.fd, 65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        selector.unregister(key.fileobj)
                        pipes -= 1
                        text = decoders[name].decode(b"", final=True)
                    else:
                        text = decoders[name].decode(data)
                    if text:
                        tails[name].add(text)
                        out.write(text)
        finally:
            selector.close()
            if pidfd is not None:
                os.close(pidfd)


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:
        return None


def minimal_env(extra: Mapping[str, str] | None = None, home: str | None = None) -> dict[str, str]:
    """The environment a command starts from: nothing of the scheduler's own (no
    TICKWORK_* variable, no database URL, no cloud credentials), only a PATH, a locale and
    what the job gives."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    if home is not None:
        env["HOME"] = home
        env["TMPDIR"] = home
    tz = os.environ.get("TZ")
    if tz:
        env["TZ"] = tz
    env.update(extra or {})
    return env
