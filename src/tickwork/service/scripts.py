"""Scripts through the facade: code stored with immutable versions (author, time, message).
Saving is a new version; a rollback is a new version holding an old one's code; a job follows
the latest version or pins one. Every save and removal is audited."""

from __future__ import annotations

import difflib
from typing import Any

from tickwork.errors import Conflict, InvalidInput, NotFound
from tickwork.parameters import SURROGATE
from tickwork.service.base import FacadeBase
from tickwork.store.kinds_repo import ScriptRecord, ScriptVersion
from tickwork.targets.script import check_language, check_script_name

MAX_CODE = 256 * 1024  # characters of a script


def _code(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("code", "must be text", code="text_type")
    if not value.strip():
        raise InvalidInput("code", "must not be empty", code="empty")
    if len(value) > MAX_CODE:
        raise InvalidInput(
            "code",
            f"is {len(value)} characters long; the limit is {MAX_CODE}",
            code="too_long",
            params={"max": MAX_CODE},
        )
    if "\x00" in value or SURROGATE.search(value):
        raise InvalidInput(
            "code", "holds a NUL or a lone surrogate, which is not text", code="control_chars"
        )
    return value


def _message(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 500 or "\x00" in value:
        raise InvalidInput(
            "message",
            "must be text of at most 500 characters",
            code="too_long",
            params={"max": 500},
        )
    return value


class ScriptsMixin(FacadeBase):
    def scripts(self) -> list[tuple[ScriptRecord, list[str]]]:
        """Every script with the jobs that run it."""
        with self.store.db.read() as conn:
            records = self.store.scripts.all(conn)
            users = self._kind_references(conn)
        return [(r, users.get(("script", r.name), [])) for r in records]

    def script(self, name: str) -> tuple[ScriptRecord, ScriptVersion, list[str]]:
        """A script, its latest version, and the jobs that run it."""
        with self.store.db.read() as conn:
            record = self.store.scripts.get(conn, name)
            if record is None:
                raise NotFound("script", name)
            latest = self.store.scripts.version(conn, name, record.latest_version)
            users = self._kind_references(conn).get(("script", name), [])
        assert latest is not None
        return record, latest, users

    def script_version(self, name: str, version: int) -> ScriptVersion:
        with self.store.db.read() as conn:
            found = self.store.scripts.version(conn, name, version)
        if found is None:
            raise NotFound("script version", f"{name} v{version}")
        return found

    def script_history(self, name: str) -> list[ScriptVersion]:
        """Every version, newest first."""
        with self.store.db.read() as conn:
            if self.store.scripts.get(conn, name) is None:
                raise NotFound("script", name)
            return self.store.scripts.history(conn, name)

    def script_diff(self, name: str, old: int, new: int) -> str:
        """A unified diff between two versions."""
        a, b = self.script_version(name, old), self.script_version(name, new)
        return "".join(
            difflib.unified_diff(
                a.code.splitlines(keepends=True),
                b.code.splitlines(keepends=True),
                fromfile=f"{name} v{old}",
                tofile=f"{name} v{new}",
            )
        )

    def push_script(
        self,
        name: str,
        code: str,
        *,
        language: str | None = None,
        message: str | None = None,
        description: str | None = None,
        by: str | None = None,
        new: bool | None = None,
    ) -> ScriptVersion:
        """Save ``code`` as the script's next version (creating the script, whose language
        is then required and fixed). Code identical to the latest version is not saved
        again: the latest version is returned. ``new``: True refuses an existing script
        (409), False an unknown one (404)."""
        check_script_name(name, "name")
        code = _code(code)
        text = _message(message)
        if description is not None and (
            not isinstance(description, str) or len(description) > 2000
        ):
            raise InvalidInput(
                "description",
                "must be text of at most 2000 characters",
                code="too_long",
                params={"max": 2000},
            )
        now = self.clock.now_us()
        actor = by or self.actor
        with self.store.db.write() as conn:
            existing = self.store.scripts.get(conn, name)
            if new and existing is not None:
                raise Conflict(
                    "name",
                    f"a script named {name!r} exists; save a new version of it instead",
                    code="duplicate_script",
                    params={"name": name},
                )
            if new is False and existing is None:
                raise NotFound("script", name)
            if existing is None:
                if language is None:
                    raise InvalidInput(
                        "language", "is required for a new script (python or bash)", code="missing"
                    )
                chosen = check_language(language, "language")
            else:
                chosen = existing.language
                if language is not None and language != existing.language:
                    raise Conflict(
                        "language",
                        f"script {name!r} is a {existing.language} script; its language is fixed",
                        code="script_language_fixed",
                        params={"name": name, "language": existing.language},
                    )
                latest = self.store.scripts.version(conn, name, existing.latest_version)
                if latest is not None and latest.code == code and description is None:
                    return latest
            version = self.store.scripts.add_version(
                conn,
                name=name,
                language=chosen,
                code=code,
                message=text,
                author=actor,
                now=now,
                description=description,
            )
            self.audit.record(
                conn,
                at=now,
                actor=actor,
                action="script.save",
                subject=name,
                detail={"version": version.version, "message": text, "sha256": version.sha256},
            )
        self._scripts_changed()
        return version

    def rollback_script(
        self, name: str, version: int, *, message: str | None = None, by: str | None = None
    ) -> ScriptVersion:
        """A new version with the code of ``version`` (history is never rewritten)."""
        old = self.script_version(name, version)
        return self.push_script(
            name, old.code, message=message or f"roll back to version {version}", by=by
        )

    def remove_script(self, name: str, *, by: str | None = None) -> None:
        """Remove a script and its versions; refused while a job runs it."""
        with self.store.db.write() as conn:
            record = self.store.scripts.get(conn, name)
            if record is None:
                raise NotFound("script", name)
            users = self._kind_references(conn).get(("script", name), [])
            if users:
                raise Conflict(
                    "name",
                    f"script {name!r} is run by job(s) {', '.join(users[:10])}; change those first",
                    code="script_in_use",
                    params={"name": name, "jobs": users[:10]},
                )
            self.store.scripts.delete(conn, name)
            self.audit.record(
                conn,
                at=self.clock.now_us(),
                actor=by or self.actor,
                action="script.remove",
                subject=name,
                detail={"versions": record.latest_version},
            )
        self._scripts_changed()

    def _scripts_changed(self) -> None:
        node = self.node
        if node is not None:
            self.store.db.after_commit(node.dispatcher.preparer.forget)
