"""``tickwork cron next|explain``: try cron expressions from the command line."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime

from tickwork.errors import TriggerError
from tickwork.triggers import cron
from tickwork.triggers.base import Lang, Trigger
from tickwork.triggers.zones import coerce_instant, resolve_tz, us_to_local

_LABELS = {
    "en": {"next": "Next {n} fire times:", "none": "(no further fire times)"},
    "zh": {"next": "接下来 {n} 次执行时间：", "none": "（之后不再执行）"},
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("cron", help="compute and explain cron expressions")
    cmds = group.add_subparsers(dest="cron_command", metavar="SUBCOMMAND", required=True)

    nxt = cmds.add_parser("next", help="print the next fire times of EXPR")
    nxt.add_argument("expr", metavar="EXPR", help='a cron expression, e.g. "30 2 * * *"')
    nxt.add_argument("--count", type=_positive, default=5, metavar="N", help="how many (5)")
    nxt.add_argument("--tz", default="UTC", metavar="ZONE", help="IANA time zone (UTC)")
    nxt.add_argument(
        "--after",
        metavar="ISO8601",
        help="start after this instant (default now; a naive value is in --tz)",
    )
    nxt.add_argument("--seed", help="the job id that H expressions spread by")
    nxt.set_defaults(handler=_cmd_next)

    exp = cmds.add_parser("explain", help="describe EXPR and show its next 5 fire times")
    exp.add_argument("expr", metavar="EXPR", help="a cron expression")
    exp.add_argument(
        "--lang", choices=("zh", "en"), default=None, help="language (default: from LANG)"
    )
    exp.add_argument("--tz", default="UTC", metavar="ZONE", help="IANA time zone (UTC)")
    exp.add_argument("--seed", help="the job id that H expressions spread by")
    exp.set_defaults(handler=_cmd_explain)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _fires(trigger: Trigger, after_us: int, count: int) -> list[datetime]:
    out: list[datetime] = []
    cursor = after_us
    for _ in range(count):
        nxt = trigger.next_fire_us(cursor)
        if nxt is None:
            break
        out.append(us_to_local(nxt, trigger.tz))
        cursor = nxt
    return out


def _now_us() -> int:
    delta = datetime.now(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _cmd_next(args: argparse.Namespace) -> int:
    zone = resolve_tz(args.tz)
    trigger = cron(args.expr, zone, args.seed)
    if args.after is None:
        after_us = _now_us()
    else:
        try:
            moment = datetime.fromisoformat(args.after.strip())
        except ValueError:
            raise TriggerError("after", f"not an ISO 8601 date/time: {args.after!r}") from None
        after_us = coerce_instant(moment, zone, "after")
    for moment in _fires(trigger, after_us, args.count):
        print(moment.isoformat())
    return 0


def default_lang(environ: dict[str, str] | None = None) -> Lang:
    """zh when LC_ALL (or, if unset, LANG) starts with "zh"; en otherwise."""
    env = os.environ if environ is None else environ
    value = env.get("LC_ALL") or env.get("LANG") or ""
    return "zh" if value.lower().startswith("zh") else "en"


def _cmd_explain(args: argparse.Namespace) -> int:
    lang: Lang = args.lang or default_lang()
    trigger = cron(args.expr, resolve_tz(args.tz), args.seed)
    labels = _LABELS[lang]
    fires = _fires(trigger, _now_us(), 5)
    print(trigger.describe(lang))
    print(labels["next"].format(n=len(fires)) if fires else labels["none"])
    for moment in fires:
        print(f"  {moment.isoformat()}")
    return 0
