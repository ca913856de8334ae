"""User crontabs (``crontab -l`` output, Vixie/cronie syntax) -> shell jobs.

Each schedule line ``m h dom mon dow command`` (or ``@daily command``) becomes a shell job
run by /bin/sh with the environment lines above it (``NAME=value``), as cron runs it.
Reported, not imported: ``@reboot`` (no schedule: run it from your service manager),
``MAILTO`` (cron mails the output; Tickwork keeps it in the run record: use alerts), a
command with an unescaped ``%`` (cron's stdin/newline marker) is refused with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from tickwork.importers import Imported
from tickwork.jobspec import JobSpec

_ENV = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\Z")
_NICKNAMES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
# cron's environment variables that change how cron itself behaves, not the command
_CRON_ONLY = {"MAILTO", "MAILFROM", "CRON_TZ", "RANDOM_DELAY"}


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _has_bare_percent(command: str) -> bool:
    return "%" in command and re.search(r"(?<!\\)%", command) is not None


def read(path: str | Path, *, prefix: str = "crontab", group: str = "crontab") -> Imported:
    source = Path(path)
    out = Imported()
    env: dict[str, str] = {}
    timezone: str | None = None
    name = source.name
    for number, raw in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        where = f"{name}:{number}"
        if not line or line.startswith("#"):
            continue
        # a job line starts with a time field or a nickname: no assignment to look for
        job_line = line[0].isdigit() or line[0] in "*@"
        match = None if job_line else _ENV.match(line)
        if match:
            variable, value = match.group(1), _unquote(match.group(2))
            if variable == "MAILTO":
                out.note(
                    where,
                    f"MAILTO={value or '(empty)'}: cron mailed each job's output; Tickwork "
                    "keeps output in the run record (alert on failure instead)",
                )
            elif variable == "CRON_TZ":
                timezone = value
                out.note(where, f"CRON_TZ={value}: used as the time zone of the jobs below")
            elif variable == "SHELL":
                out.note(
                    where,
                    "SHELL is cron's own setting: Tickwork runs the commands with /bin/sh "
                    f"(write `{value} -c '...'` where a command needs {value})",
                )
            elif variable in _CRON_ONLY:
                out.note(where, f"{variable} is cron's own setting: not carried over")
            else:
                env[variable] = value
            continue
        if line.startswith("@reboot"):
            out.note(
                where,
                f"@reboot {line[7:].strip()!r}: has no schedule; start it from your service "
                "manager (systemd, supervisord), not imported",
            )
            continue
        if line.startswith("@"):
            word, _, command = line.partition(" ")
            if word not in _NICKNAMES:
                out.refuse(where, f"{word} is not a cron nickname ({', '.join(_NICKNAMES)})")
                continue
            expression = word
        else:
            parts = line.split(None, 5)
            if len(parts) < 6:
                out.refuse(where, "expected five time fields and a command")
                continue
            expression, command = " ".join(parts[:5]), parts[5]
        command = command.strip()
        if not command:
            out.refuse(where, "has no command")
            continue
        if _has_bare_percent(command):
            out.refuse(
                where,
                "the command holds an unescaped %, which cron turns into a newline and feeds "
                "the rest to stdin: write it as \\% or move it into a script",
            )
            continue
        command = command.replace("\\%", "%")
        target: dict[str, object] = {"kind": "shell", "command": command, "shell": True}
        if env:
            target["env"] = dict(env)
        spec = JobSpec(
            target=target,
            trigger=expression,
            id=f"{prefix}-{number}",
            name=command[:200],
            group=group,
            timezone=timezone,
            description=f"imported from {name} line {number}",
        )
        out.jobs.append((where, spec))
    return out
