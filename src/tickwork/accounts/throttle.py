"""Login throttling: growing delays per (account, address) and per address, never a lockout.

An attempt is counted *before* its password is checked, in one transaction that locks the
throttle rows: thirty concurrent guesses cannot all pass a check made before any of them was
counted (they did: the correct 21st logged in). A failure that is not yet past the free ones
costs nothing; each further one doubles the wait before the next attempt from that address
for that account (1 s, 2 s, 4 s ... 15 min at most). A success clears the pair. Another
address is not slowed by them, so an attacker cannot lock the admin out; one address trying
many accounts meets its own growing delays after ``free_per_address`` failures.

Rows live in the shared database, so the limits hold across every API node.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from tickwork.accounts.errors import RateLimited
from tickwork.store.database import Database
from tickwork.store.tables_auth import login_throttle

SEC = 1_000_000


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_per_pair: int = 3  # failures of one account from one address before delays
    free_per_address: int = 20  # failures from one address (any accounts) before delays
    first_delay_s: int = 1  # doubled with each further failure
    max_delay_s: int = 15 * 60
    forget_after_s: int = 24 * 3600  # a key without failures this long starts afresh

    def delay_s(self, failures: int, free: int) -> int:
        excess = failures - free
        if excess <= 0:
            return 0
        return int(min(self.first_delay_s * 2 ** min(excess - 1, 30), self.max_delay_s))


def pair_key(username: str, address: str) -> str:
    # A digest of the name: any text a client sends fits, NUL and all.
    name = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"pair:{address_key(address)[8:]}|{name}"


def address_key(address: str) -> str:
    return "address:" + "".join(c for c in address[:64] if c.isprintable())


class Throttle:
    def __init__(self, db: Database, policy: ThrottlePolicy | None = None) -> None:
        self.db = db
        self.policy = policy or ThrottlePolicy()

    def reserve(self, username: str, address: str, now: int) -> None:
        """Count one attempt as failed before it is checked, or refuse it (RateLimited,
        nothing counted) while one of its keys waits out a delay."""
        keys = [
            (address_key(address), self.policy.free_per_address),
            (pair_key(username, address), self.policy.free_per_pair),
        ]
        with self.db.write() as conn:
            rows = [self._locked(conn, key, now) for key, _ in keys]
            wait_us = max(blocked - now for _, _, blocked in rows)
            if wait_us > 0:
                what = "account from this address" if rows[1][2] > now else "address"
                raise RateLimited(
                    f"too many failed logins for this {what}; try again later",
                    max(1, -(-wait_us // SEC)),
                    code="too_many_logins",
                    params={"what": "account" if rows[1][2] > now else "address"},
                )
            for (key, free), (counted, last, _) in zip(keys, rows, strict=True):
                stale = now - last > self.policy.forget_after_s * SEC
                failures = (0 if stale else counted) + 1
                delay = self.policy.delay_s(failures, free)
                conn.execute(
                    update(login_throttle)
                    .where(login_throttle.c.key == key)
                    .values(
                        failures=failures,
                        last_failure_at=now,
                        blocked_until=now + delay * SEC if delay else 0,
                    )
                )
            # keys unused for a day are forgotten (bounded table)
            conn.execute(
                delete(login_throttle).where(
                    login_throttle.c.last_failure_at < now - self.policy.forget_after_s * SEC,
                    login_throttle.c.blocked_until < now,
                )
            )

    def succeeded(self, username: str, address: str) -> None:
        """The reserved attempt was right: clear the pair, and take the attempt back from
        the address (a success is no failure of it)."""
        free = self.policy.free_per_address
        with self.db.write() as conn:
            conn.execute(
                delete(login_throttle).where(login_throttle.c.key == pair_key(username, address))
            )
            row = conn.execute(
                select(login_throttle.c.failures).where(
                    login_throttle.c.key == address_key(address)
                )
            ).first()
            if row is not None:
                failures = max(0, int(row[0]) - 1)
                values: dict[str, int] = {"failures": failures}
                if failures <= free:
                    values["blocked_until"] = 0
                conn.execute(
                    update(login_throttle)
                    .where(login_throttle.c.key == address_key(address))
                    .values(**values)
                )

    def _locked(self, conn: Connection, key: str, now: int) -> tuple[int, int, int]:
        """(failures, last failure, blocked until) of ``key``, its row created if missing
        and locked until the transaction ends (SQLite: the transaction holds the write lock)."""
        self._insert_missing(conn, key)
        row = conn.execute(
            select(
                login_throttle.c.failures,
                login_throttle.c.last_failure_at,
                login_throttle.c.blocked_until,
            )
            .where(login_throttle.c.key == key)
            .with_for_update()
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    def _insert_missing(self, conn: Connection, key: str) -> None:
        values = {"key": key, "failures": 0, "last_failure_at": 0, "blocked_until": 0}
        backend = self.db.backend
        if backend == "postgresql":
            conn.execute(postgresql.insert(login_throttle).values(values).on_conflict_do_nothing())
        elif backend in ("mysql", "mariadb"):
            # An exclusive lock at once (a plain insert of a duplicate takes a shared one,
            # and two of those asking for FOR UPDATE deadlock).
            stmt = mysql.insert(login_throttle).values(values)
            conn.execute(stmt.on_duplicate_key_update(failures=login_throttle.c.failures))
        else:
            conn.execute(sqlite.insert(login_throttle).values(values).on_conflict_do_nothing())
