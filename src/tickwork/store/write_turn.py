"""The turn of this process's threads at SQLite's single write lock, with a fast lane.

SQLite has one writer at a time; threads of one process take turns here first (a thread that
found the database locked would wait in SQLite's busy handler, which sleeps in steps of up to
100 ms). A plain lock has no order: a thread that releases it can take it straight back, so
the scheduling loop claiming several batches in a row could keep the dispatcher, whose start
records make due runs wait, out for the whole series. An *urgent* taker (the dispatcher) goes
before every ordinary one that is waiting; ordinary takers wait while an urgent one does.
Re-entrant for the thread that holds it.
"""

from __future__ import annotations

import threading
from types import TracebackType


class WriteTurn:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._urgent = 0  # urgent takers waiting

    def acquire(self, urgent: bool = False) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            if urgent:
                self._urgent += 1
                try:
                    while self._owner is not None:
                        self._cond.wait()
                finally:
                    self._urgent -= 1
            else:
                while self._owner is not None or self._urgent:
                    self._cond.wait()
            self._owner = me
            self._depth = 1

    def release(self) -> None:
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("the write turn is released by a thread that does not hold it")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def taken(self, urgent: bool = False) -> _Taken:
        """``with turn.taken(urgent):`` holds the turn for the block."""
        return _Taken(self, urgent)


class _Taken:
    __slots__ = ("_turn", "_urgent")

    def __init__(self, turn: WriteTurn, urgent: bool) -> None:
        self._turn = turn
        self._urgent = urgent

    def __enter__(self) -> None:
        self._turn.acquire(self._urgent)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._turn.release()
