"""``tickwork alerts list|test|channels|rules``: the alert history, a channel's test message,
and the channels (secrets masked) and rules defined. Channels and rules are created through
the API or the console (docs/alerts.md)."""

from __future__ import annotations

import argparse
from typing import Any

from tickwork.cli.common import dump_json, open_client, store_options, table, when


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("alerts", help="alert history, channels, rules; send a test message")
    cmds = group.add_subparsers(dest="alerts_command", metavar="SUBCOMMAND", required=True)

    ls = cmds.add_parser("list", parents=[common], help="recent alerts, newest first")
    ls.add_argument("--rule", help="only this rule's alerts")
    ls.add_argument("--job", help="only this job's alerts")
    ls.add_argument("--channel", help="only alerts sent to this channel")
    ls.add_argument(
        "--status",
        choices=["queued", "deduplicated", "pending", "sending", "delivered", "failed"],
        help="the alert's status or a delivery's",
    )
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_list)

    test = cmds.add_parser("test", parents=[common], help="send a test message to a channel")
    test.add_argument("channel", metavar="CHANNEL")
    test.add_argument("--language", choices=["en", "zh-CN"])
    test.set_defaults(handler=_test)

    channels = cmds.add_parser("channels", parents=[common], help="channels (secrets masked)")
    channels.add_argument("--json", action="store_true")
    channels.set_defaults(handler=_channels)

    rules = cmds.add_parser("rules", parents=[common], help="alert rules")
    rules.add_argument("--json", action="store_true")
    rules.set_defaults(handler=_rules)


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        rows = tw.alert_history(
            rule_id=args.rule, job_id=args.job, channel=args.channel, status=args.status,
            limit=max(1, min(args.limit, 500)),
        )  # fmt: skip
    if args.json:
        dump_json(rows)
        return 0
    table(
        [
            [
                str(r["id"]), when(r["created_at"]), r["kind"], r["severity"], r["rule_id"] or "-",
                r["job_id"] or "-", r["status"], _deliveries(r["deliveries"]),
            ]
            for r in rows
        ],
        ["ID", "AT", "KIND", "SEVERITY", "RULE", "JOB", "STATUS", "DELIVERIES"],
    )  # fmt: skip
    return 0


def _deliveries(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{d['channel']}:{d['status']}" for d in items) or "-"


def _test(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        result = tw.test_alert_channel(args.channel, by=tw.actor, language=args.language)
    if result["ok"]:
        print(f"{args.channel}: delivered (HTTP/SMTP {result['status_code']})")
        return 0
    detail = result["error"] or ""
    if result["response"]:
        detail += f"; the service answered: {result['response']}"
    print(f"{args.channel}: FAILED: {detail}")
    return 1


def _channels(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        views = tw.alert_channels()
    if args.json:
        dump_json([{k: getattr(v, k) for k in v.__slots__} for v in views])
        return 0
    table(
        [
            [v.name, v.kind, v.language, "on" if v.enabled else "off",
             str(v.fields.get("host") or ", ".join(v.fields.get("to") or [])),
             ", ".join(v.used_by) or "-"]
            for v in views
        ],
        ["NAME", "KIND", "LANGUAGE", "ENABLED", "TO", "USED BY"],
    )  # fmt: skip
    return 0


def _rules(args: argparse.Namespace) -> int:
    from tickwork.alerts.model import rule_to_body

    with open_client(args) as tw:
        rules = tw.alert_rules()
    if args.json:
        dump_json([rule_to_body(r) for r in rules])
        return 0
    table(
        [
            [r.id, r.kind, r.scope + (f":{r.scope_value}" if r.scope_value else ""), r.severity,
             str(r.dedupe_s), ", ".join(r.channels) or "-", "on" if r.enabled else "off"]
            for r in rules
        ],
        ["ID", "KIND", "SCOPE", "SEVERITY", "DEDUPE S", "CHANNELS", "ENABLED"],
    )  # fmt: skip
    return 0
