"""Accounts behind the facade (``Tickwork.accounts``): users and roles, console sessions,
API tokens and login throttling (``tickwork.accounts.throttle``). Every write is audited in
its own transaction.

Disabling a user or resetting their password ends their sessions and revokes their API
tokens for good: enabling them again brings none back.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tickwork.accounts import keys, passwords
from tickwork.accounts.errors import AuthenticationFailed
from tickwork.accounts.grants import GrantsMixin, load_grants
from tickwork.accounts.records import Principal, User
from tickwork.accounts.roles import Role
from tickwork.accounts.throttle import Throttle, ThrottlePolicy
from tickwork.accounts.tokens import SEC, TokensMixin, parse_role
from tickwork.audit import AuditLog
from tickwork.clock import Clock
from tickwork.errors import Conflict, InvalidInput, NotFound
from tickwork.settings import Settings
from tickwork.store.database import Database
from tickwork.store.tables_auth import api_token, session, user
from tickwork.store.tables_groups import group_grant

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{0,99}\Z")


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    session_idle_s: int = 12 * 3600  # a console session unused this long ends
    session_max_s: int = 7 * 86400  # and every session ends after this long
    touch_every_s: int = 60  # how often last-used/expiry columns are written on use
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)  # failed logins


@dataclass(frozen=True, slots=True)
class Login:
    user: User
    session_token: str  # the cookie's value; never stored
    csrf_token: str
    expires_at: int


class Accounts(TokensMixin, GrantsMixin):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditLog,
        settings: Settings,
        policy: AccountPolicy | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.settings = settings
        self.policy = policy or AccountPolicy()
        self.throttle = Throttle(db, self.policy.throttle)
        self._key: str | None = None
        self._key_loader: Callable[[], str] = lambda: keys.load_secret_key(settings.data_dir)

    # -- the secret key -----------------------------------------------------------------------
    @property
    def secret_key(self) -> str:
        if self._key is None:
            self._key = self._key_loader()
        return self._key

    def set_secret_key(self, key: str) -> None:
        self._key = keys.check_secret_key(key)

    # -- users --------------------------------------------------------------------------------
    def count_users(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(user)).scalar_one())

    def list_users(self) -> list[User]:
        with self.db.read() as conn:
            rows = conn.execute(select(user).order_by(user.c.username)).mappings().all()
        return [User.from_row(r) for r in rows]

    def get_user(self, user_id: int) -> User:
        with self.db.read() as conn:
            row = conn.execute(select(user).where(user.c.id == user_id)).mappings().first()
        if row is None:
            raise NotFound("user", user_id)
        return User.from_row(row)

    def find_user(self, username: str) -> User | None:
        with self.db.read() as conn:
            row = (
                conn.execute(select(user).where(user.c.username == username.strip().lower()))
                .mappings()
                .first()
            )
        return User.from_row(row) if row else None

    def create_user(
        self, username: str, password: str, role: Role | str, *, by: str, only_if_none: bool = False
    ) -> User | None:
        """Create a user. With ``only_if_none`` nothing happens (None is returned) when any
        user exists already: how the first admin is made from environment variables."""
        name = check_username(username)
        role = parse_role(role)
        passwords.check_password(password, username=name)
        with passwords.hashing_slot():
            hashed = passwords.hash_password(password)
        now = self.clock.now_us()
        with self.db.write() as conn:
            if only_if_none and conn.execute(select(func.count()).select_from(user)).scalar_one():
                return None
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(user),
                        [
                            {
                                "username": name,
                                "password_hash": hashed,
                                "role": role.value,
                                "disabled": False,
                                "created_at": now,
                                "created_by": by,
                                "updated_at": now,
                                "password_changed_at": now,
                            }
                        ],
                    )
            except IntegrityError:
                raise Conflict(
                    "username",
                    f"a user named {name!r} already exists",
                    code="duplicate_user",
                    params={"name": name},
                ) from None
            row = conn.execute(select(user).where(user.c.username == name)).mappings().one()
            created = User.from_row(row)
            self.audit.record(
                conn,
                at=now,
                actor=by,
                action="user.create",
                subject=name,
                after=created.public(),
            )
        return created

    def update_user(
        self,
        user_id: int,
        *,
        by: Principal,
        role: Role | str | None = None,
        disabled: bool | None = None,
        password: str | None = None,
    ) -> User:
        """Change a user's role, disabled flag or password (admins). Nobody changes their own
        role or disables themselves, and the last active admin stays an active admin."""
        now = self.clock.now_us()
        new_role = None if role is None else parse_role(role)
        with self.db.write() as conn:
            old = self._user_for_update(conn, user_id)
            if user_id == by.user_id and (
                (new_role is not None and new_role != old.role) or disabled
            ):
                raise Conflict(
                    "role",
                    "you cannot change your own role or disable yourself",
                    code="own_role",
                )
            values: dict[str, Any] = {"updated_at": now}
            if new_role is not None:
                values["role"] = new_role.value
            if disabled is not None:
                values["disabled"] = bool(disabled)
            if password is not None:
                passwords.check_password(password, username=old.username)
                with passwords.hashing_slot():
                    values["password_hash"] = passwords.hash_password(password)
                values["password_changed_at"] = now
            conn.execute(update(user).where(user.c.id == user_id).values(**values))
            self._keep_an_admin(conn)
            if password is not None or disabled:
                self._end_access(conn, user_id, now)
            new = self._user_for_update(conn, user_id)
            self.audit.record(
                conn,
                at=now,
                actor=by.actor,
                action="user.update",
                subject=old.username,
                before=old.public(),
                after=new.public(),
                detail={"password_changed": password is not None},
            )
        return new

    def delete_user(self, user_id: int, *, by: Principal) -> None:
        now = self.clock.now_us()
        with self.db.write() as conn:
            old = self._user_for_update(conn, user_id)
            if user_id == by.user_id:
                raise Conflict("id", "you cannot delete your own account", code="own_account")
            conn.execute(delete(session).where(session.c.user_id == user_id))
            conn.execute(
                update(api_token)
                .where(api_token.c.user_id == user_id, api_token.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            conn.execute(delete(user).where(user.c.id == user_id))
            conn.execute(delete(group_grant).where(group_grant.c.user_id == user_id))
            self._keep_an_admin(conn)
            self.audit.record(
                conn,
                at=now,
                actor=by.actor,
                action="user.delete",
                subject=old.username,
                before=old.public(),
            )

    def change_password(
        self, principal: Principal, current: str, new: str, address: str = "unknown"
    ) -> None:
        """A user changes their own password; every session of theirs ends (the caller
        logs in again), API tokens stay valid. The current-password check is throttled like
        a login (the same account and address keys)."""
        passwords.check_password(new, username=principal.username, field="new_password")
        address = (address or "unknown")[:64]
        with passwords.hashing_slot():
            self.throttle.reserve(principal.username, address, self.clock.now_us())
            with self.db.read() as conn:
                stored = conn.execute(
                    select(user.c.password_hash).where(user.c.id == principal.user_id)
                ).scalar()
            if not passwords.verify_password(stored, current):
                raise InvalidInput(
                    "current_password", "is not your current password", code="wrong_password"
                )
            self.throttle.succeeded(principal.username, address)
            hashed = passwords.hash_password(new)
        now = self.clock.now_us()
        with self.db.write() as conn:
            conn.execute(
                update(user)
                .where(user.c.id == principal.user_id)
                .values(password_hash=hashed, password_changed_at=now, updated_at=now)
            )
            conn.execute(delete(session).where(session.c.user_id == principal.user_id))
            self.audit.record(
                conn,
                at=now,
                actor=principal.actor,
                action="user.password",
                subject=principal.username,
            )

    def reset_password(self, username: str, password: str, *, by: str) -> User:
        """Set a user's password from the command line (a lost admin password): their
        sessions end and their API tokens are revoked."""
        found = self.find_user(username)
        if found is None:
            raise NotFound("user", username)
        passwords.check_password(password, username=found.username)
        with passwords.hashing_slot():
            hashed = passwords.hash_password(password)
        now = self.clock.now_us()
        with self.db.write() as conn:
            conn.execute(
                update(user)
                .where(user.c.id == found.id)
                .values(password_hash=hashed, password_changed_at=now, updated_at=now)
            )
            self._end_access(conn, found.id, now)
            self.audit.record(
                conn,
                at=now,
                actor=by,
                action="user.update",
                subject=found.username,
                detail={"password_changed": True, "tokens_revoked": True},
            )
        return self.get_user(found.id)

    def set_disabled(self, username: str, disabled: bool, *, by: str) -> User:
        """Disable (sessions end, tokens revoked for good) or enable a user from the command
        line; the last active admin stays."""
        found = self.find_user(username)
        if found is None:
            raise NotFound("user", username)
        now = self.clock.now_us()
        with self.db.write() as conn:
            conn.execute(
                update(user).where(user.c.id == found.id).values(disabled=disabled, updated_at=now)
            )
            self._keep_an_admin(conn)
            if disabled:
                self._end_access(conn, found.id, now)
            new = self._user_for_update(conn, found.id)
            self.audit.record(
                conn,
                at=now,
                actor=by,
                action="user.update",
                subject=found.username,
                before=found.public(),
                after=new.public(),
            )
        return new

    @staticmethod
    def _end_access(conn: Connection, user_id: int, now: int) -> None:
        """End every session and revoke every API token of a user, for good."""
        conn.execute(delete(session).where(session.c.user_id == user_id))
        conn.execute(
            update(api_token)
            .where(api_token.c.user_id == user_id, api_token.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    # -- login and sessions -------------------------------------------------------------------
    def login(self, username: str, password: str, address: str) -> Login:
        """Check the password and open a console session. The attempt is counted before the
        check (growing delays per account and address, and per address, across nodes), and
        only a few checks run at once (``passwords.hashing_slot``)."""
        name = (username or "").strip().lower()[:100]
        address = (address or "unknown")[:64]
        with passwords.hashing_slot():
            self.throttle.reserve(name, address, self.clock.now_us())
            with self.db.read() as conn:
                row = conn.execute(select(user).where(user.c.username == name)).mappings().first()
            found = User.from_row(row) if row else None
            ok = passwords.verify_password(row["password_hash"] if row else None, password or "")
            ok = ok and found is not None and not found.disabled
            if not ok or found is None:
                raise AuthenticationFailed(  # already counted
                    "wrong user name or password", code="login_failed"
                )
            self.throttle.succeeded(name, address)
            rehash = row is not None and passwords.needs_rehash(row["password_hash"])
            new_hash = passwords.hash_password(password) if rehash else None
        now = self.clock.now_us()
        with self.db.write() as conn:
            conn.execute(delete(session).where(session.c.expires_at < now))
            token = secrets.token_urlsafe(32)
            expires = now + self.policy.session_idle_s * SEC
            conn.execute(
                insert(session),
                [
                    {
                        "digest": keys.digest(self.secret_key, "session", token),
                        "user_id": found.id,
                        "created_at": now,
                        "expires_at": expires,
                        "absolute_expires_at": now + self.policy.session_max_s * SEC,
                        "last_seen_at": now,
                        "address": address,
                    }
                ],
            )
            if new_hash is not None:
                conn.execute(
                    update(user).where(user.c.id == found.id).values(password_hash=new_hash)
                )
        return Login(found, token, self.csrf_token(token), expires)

    def csrf_token(self, session_token: str) -> str:
        """The CSRF token bound to a session (derived, so nothing more is stored)."""
        return keys.digest(self.secret_key, "csrf", session_token)

    def check_csrf(self, session_token: str, sent: str | None) -> bool:
        return bool(sent) and keys.same(self.csrf_token(session_token), sent or "")

    def authenticate_session(self, session_token: str) -> Principal | None:
        if not session_token or len(session_token) > 200:
            return None
        dig = keys.digest(self.secret_key, "session", session_token)
        now = self.clock.now_us()
        with self.db.read() as conn:
            row = (
                conn.execute(
                    select(session, user.c.username, user.c.role, user.c.disabled)
                    .join(user, user.c.id == session.c.user_id)
                    .where(session.c.digest == dig)
                )
                .mappings()
                .first()
            )
            grants = load_grants(conn, int(row["user_id"])) if row is not None else {}
        if row is None or row["disabled"]:
            return None
        if row["expires_at"] <= now or row["absolute_expires_at"] <= now:
            return None
        if now - row["last_seen_at"] >= self.policy.touch_every_s * SEC:
            with self.db.write() as conn:
                conn.execute(
                    update(session)
                    .where(session.c.digest == dig)
                    .values(
                        last_seen_at=now,
                        expires_at=min(
                            now + self.policy.session_idle_s * SEC, row["absolute_expires_at"]
                        ),
                    )
                )
        return Principal(
            user_id=int(row["user_id"]),
            username=row["username"],
            role=Role(row["role"]),
            via="session",
            session_digest=dig,
            grants=grants,
        )

    def logout(self, principal: Principal) -> None:
        if principal.session_digest:
            with self.db.write() as conn:
                conn.execute(delete(session).where(session.c.digest == principal.session_digest))

    # -- internals ----------------------------------------------------------------------------
    @staticmethod
    def _user_for_update(conn: Connection, user_id: int) -> User:
        row = conn.execute(select(user).where(user.c.id == user_id)).mappings().first()
        if row is None:
            raise NotFound("user", user_id)
        return User.from_row(row)

    @staticmethod
    def _keep_an_admin(conn: Connection) -> None:
        admins = conn.execute(
            select(func.count())
            .select_from(user)
            .where(user.c.role == Role.ADMIN.value, user.c.disabled.is_(False))
        ).scalar_one()
        if not admins:
            raise Conflict(
                "role",
                "the last active admin cannot be removed, demoted or disabled",
                code="last_admin",
            )


def check_username(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("username", "must be text", code="expected_text", params={"value": ""})
    name = value.strip().lower()
    if not USERNAME.match(name):
        raise InvalidInput(
            "username",
            "1-100 characters: letters, digits and _ . @ - (starting with a letter or digit)",
            code="username_rule",
            params={"max": 100},
        )
    return name
