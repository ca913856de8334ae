"""Accounts behind the facade (``Tickwork.accounts``): users and roles, console sessions,
API tokens and the login rate limit. Every write is audited in its own transaction.

Login attempts are rows in the shared database, so the limit holds across every API node.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tickwork.accounts import keys, passwords
from tickwork.accounts.errors import AuthenticationFailed, PermissionDenied, RateLimited
from tickwork.accounts.records import ApiToken, Principal, User
from tickwork.accounts.roles import Role
from tickwork.audit import AuditLog
from tickwork.clock import Clock
from tickwork.errors import Conflict, InvalidInput, NotFound
from tickwork.settings import Settings
from tickwork.store.database import Database
from tickwork.store.tables_auth import api_token, login_attempt, session, user

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{0,99}$")
TOKEN_PREFIX = "tw_"
SEC = 1_000_000


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    session_idle_s: int = 12 * 3600  # a console session unused this long ends
    session_max_s: int = 7 * 86400  # and every session ends after this long
    login_window_s: int = 15 * 60
    max_failures_per_account: int = 5  # within the window
    max_failures_per_address: int = 20
    touch_every_s: int = 60  # how often last-used/expiry columns are written on use


@dataclass(frozen=True, slots=True)
class Login:
    user: User
    session_token: str  # the cookie's value; never stored
    csrf_token: str
    expires_at: int


class Accounts:
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
        role = _role(role)
        passwords.check_password(password, username=name)
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
        new_role = None if role is None else _role(role)
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
                values["password_hash"] = passwords.hash_password(password)
                values["password_changed_at"] = now
            conn.execute(update(user).where(user.c.id == user_id).values(**values))
            self._keep_an_admin(conn)
            if password is not None or disabled:
                conn.execute(delete(session).where(session.c.user_id == user_id))
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
            self._keep_an_admin(conn)
            self.audit.record(
                conn,
                at=now,
                actor=by.actor,
                action="user.delete",
                subject=old.username,
                before=old.public(),
            )

    def change_password(self, principal: Principal, current: str, new: str) -> None:
        """A user changes their own password; every session of theirs ends (the caller
        logs in again), API tokens stay valid."""
        with self.db.read() as conn:
            stored = conn.execute(
                select(user.c.password_hash).where(user.c.id == principal.user_id)
            ).scalar()
        if not passwords.verify_password(stored, current):
            raise InvalidInput(
                "current_password", "is not your current password", code="wrong_password"
            )
        passwords.check_password(new, username=principal.username, field="new_password")
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

    # -- login and sessions -------------------------------------------------------------------
    def login(self, username: str, password: str, address: str) -> Login:
        """Check the password (rate-limited per account and per address, across nodes) and
        open a console session."""
        name = (username or "").strip().lower()[:100]
        address = (address or "unknown")[:64]
        now = self.clock.now_us()
        self._check_rate(name, address, now)
        with self.db.read() as conn:
            row = conn.execute(select(user).where(user.c.username == name)).mappings().first()
        found = User.from_row(row) if row else None
        ok = passwords.verify_password(row["password_hash"] if row else None, password or "")
        ok = ok and found is not None and not found.disabled
        with self.db.write() as conn:
            conn.execute(
                insert(login_attempt),
                [{"at": now, "username": name, "address": address, "succeeded": ok}],
            )
            window_start = now - self.policy.login_window_s * SEC
            conn.execute(delete(login_attempt).where(login_attempt.c.at < now - 86_400 * SEC))
        if not ok or found is None:
            # Raised after the commit: the failure must count.
            raise AuthenticationFailed("wrong user name or password", code="login_failed")
        with self.db.write() as conn:
            # A success clears the account's failures (not the address's).
            conn.execute(
                delete(login_attempt).where(
                    login_attempt.c.username == name,
                    login_attempt.c.succeeded.is_(False),
                    login_attempt.c.at >= window_start,
                )
            )
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
        if row is not None and passwords.needs_rehash(row["password_hash"]):
            with self.db.write() as conn:
                conn.execute(
                    update(user)
                    .where(user.c.id == found.id)
                    .values(password_hash=passwords.hash_password(password))
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
        )

    def logout(self, principal: Principal) -> None:
        if principal.session_digest:
            with self.db.write() as conn:
                conn.execute(delete(session).where(session.c.digest == principal.session_digest))

    def _check_rate(self, name: str, address: str, now: int) -> None:
        since = now - self.policy.login_window_s * SEC
        window = self.policy.login_window_s * SEC
        with self.db.read() as conn:
            for column, value, limit, what in (
                (login_attempt.c.username, name, self.policy.max_failures_per_account, "account"),
                (login_attempt.c.address, address, self.policy.max_failures_per_address, "address"),
            ):
                ats = list(
                    conn.execute(
                        select(login_attempt.c.at)
                        .where(
                            column == value,
                            login_attempt.c.succeeded.is_(False),
                            login_attempt.c.at >= since,
                        )
                        .order_by(login_attempt.c.at.desc())
                        .limit(limit)
                    ).scalars()
                )
                if len(ats) >= limit:
                    # Allowed again when the oldest of the last ``limit`` failures expires.
                    retry = max(1, -(-(ats[-1] + window - now) // SEC))
                    raise RateLimited(
                        f"too many failed logins for this {what}; try again later",
                        int(retry),
                        code="too_many_logins",
                        params={"what": what},
                    )

    # -- API tokens ---------------------------------------------------------------------------
    def create_token(
        self,
        principal: Principal,
        name: str,
        role: Role | str | None = None,
        *,
        expires_at: int | None = None,
    ) -> tuple[str, ApiToken]:
        """A new token for the principal's user, with a role no higher than the principal's.
        Returns the token (shown once; only its digest is stored) and its record."""
        name = _text("name", name, 100)
        wanted = principal.role if role is None else _role(role)
        if not principal.role.covers(wanted):
            raise PermissionDenied(
                f"a token's role cannot exceed yours ({principal.role.value}); "
                f"asked for {wanted.value}",
                code="token_role_too_high",
                params={"role": principal.role.value, "wanted": wanted.value},
            )
        now = self.clock.now_us()
        if expires_at is not None and expires_at <= now:
            raise InvalidInput("expires_at", "must be in the future", code="not_in_future")
        token_id = secrets.token_hex(8)
        token = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
        with self.db.write() as conn:
            conn.execute(
                insert(api_token),
                [
                    {
                        "id": token_id,
                        "user_id": principal.user_id,
                        "name": name,
                        "digest": keys.digest(self.secret_key, "token", token),
                        "role": wanted.value,
                        "created_at": now,
                        "expires_at": expires_at,
                        "last_used_at": None,
                        "revoked_at": None,
                    }
                ],
            )
            self.audit.record(
                conn,
                at=now,
                actor=principal.actor,
                action="token.create",
                subject=token_id,
                detail={
                    "name": name,
                    "role": wanted.value,
                    "expires_at": expires_at,
                    "user": principal.username,
                },
            )
        return token, self._token(token_id)

    def list_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        query = (
            select(api_token, user.c.username)
            .join(user, user.c.id == api_token.c.user_id)
            .order_by(api_token.c.created_at.desc())
        )
        if user_id is not None:
            query = query.where(api_token.c.user_id == user_id)
        with self.db.read() as conn:
            return [_token_of(r) for r in conn.execute(query).mappings()]

    def revoke_token(self, token_id: str, principal: Principal) -> ApiToken:
        """Revoke a token: one's own, or anyone's for an admin."""
        found = self._token(token_id)
        if found.user_id != principal.user_id and not principal.role.covers(Role.ADMIN):
            raise NotFound("token", token_id)  # other users' tokens are not even visible
        now = self.clock.now_us()
        with self.db.write() as conn:
            conn.execute(
                update(api_token)
                .where(api_token.c.id == token_id, api_token.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            self.audit.record(
                conn,
                at=now,
                actor=principal.actor,
                action="token.revoke",
                subject=token_id,
                detail={"name": found.name, "user": found.username},
            )
        return self._token(token_id)

    def authenticate_token(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        dig = keys.digest(self.secret_key, "token", token)
        now = self.clock.now_us()
        with self.db.read() as conn:
            row = (
                conn.execute(
                    select(
                        api_token, user.c.username, user.c.role.label("user_role"), user.c.disabled
                    )
                    .join(user, user.c.id == api_token.c.user_id)
                    .where(api_token.c.digest == dig)
                )
                .mappings()
                .first()
            )
        if row is None or row["disabled"] or row["revoked_at"] is not None:
            return None
        if row["expires_at"] is not None and row["expires_at"] <= now:
            return None
        last = row["last_used_at"]
        if last is None or now - last >= self.policy.touch_every_s * SEC:
            with self.db.write() as conn:
                conn.execute(
                    update(api_token).where(api_token.c.id == row["id"]).values(last_used_at=now)
                )
        return Principal(
            user_id=int(row["user_id"]),
            username=row["username"],
            role=Role.lowest(Role(row["role"]), Role(row["user_role"])),
            via="token",
            token_id=row["id"],
        )

    # -- internals ----------------------------------------------------------------------------
    def _token(self, token_id: str) -> ApiToken:
        with self.db.read() as conn:
            row = (
                conn.execute(
                    select(api_token, user.c.username)
                    .join(user, user.c.id == api_token.c.user_id)
                    .where(api_token.c.id == token_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound("token", token_id)
        return _token_of(row)

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


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(
            "role",
            f"{value!r} is not one of viewer, operator, admin",
            code="not_one_of",
            params={"value": str(value), "choices": ["viewer", "operator", "admin"]},
        ) from None


def _text(field: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be non-empty text", code="empty_text")
    if len(value) > limit:
        raise InvalidInput(
            field,
            f"is {len(value)} characters long; the limit is {limit}",
            code="text_too_long",
            params={"length": len(value), "max": limit},
        )
    if any(ord(c) < 32 for c in value):
        raise InvalidInput(field, "contains control characters", code="control_characters")
    return value.strip()


def _token_of(row: Any) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=int(row["user_id"]),
        username=row["username"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )
