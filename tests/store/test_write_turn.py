"""The write turn of SQLite's single writer: an urgent taker (the dispatcher's start records)
goes before ordinary takers that were waiting first, and the holder may re-enter."""

from __future__ import annotations

import threading
import time

from tickwork.store.write_turn import WriteTurn


def wait_until(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_an_urgent_taker_goes_before_ordinary_ones_waiting_first() -> None:
    turn = WriteTurn()
    order: list[str] = []
    turn.acquire()  # the main thread holds it (a claim)

    def take(name: str, urgent: bool) -> None:
        with turn.taken(urgent):
            order.append(name)

    ordinary = threading.Thread(target=take, args=("ordinary", False))
    ordinary.start()
    wait_until(lambda: turn._cond._waiters)  # type: ignore[attr-defined]  # it waits
    urgent = threading.Thread(target=take, args=("urgent", True))
    urgent.start()
    wait_until(lambda: turn._urgent == 1)
    turn.release()
    for t in (ordinary, urgent):
        t.join(5)
    assert order == ["urgent", "ordinary"]


def test_the_holder_re_enters_and_only_it_releases() -> None:
    turn = WriteTurn()
    with turn.taken(), turn.taken(urgent=True):
        pass
    assert turn._owner is None
    turn.acquire()
    errors: list[BaseException] = []

    def foreign_release() -> None:
        try:
            turn.release()
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=foreign_release)
    t.start()
    t.join(5)
    assert len(errors) == 1
    turn.release()
    assert turn._owner is None
