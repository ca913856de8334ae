"""``tickwork templates list|show``, and ``tickwork jobs add ID --template NAME --param k=v``."""

from __future__ import annotations

import argparse
import json

from tickwork.cli.common import dump_json, open_client, store_options, table, when
from tickwork.errors import InvalidInput
from tickwork.templates.schema import coerce_text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("templates", help="job templates (backup, log cleanup, health, ...)")
    cmds = group.add_subparsers(dest="templates_command", metavar="SUBCOMMAND", required=True)
    ls = cmds.add_parser("list", parents=[common], help="list the templates")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_list)
    show = cmds.add_parser("show", parents=[common], help="a template and its parameters")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--lang", choices=("en", "zh-CN"), default="en")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)
    save = cmds.add_parser(
        "save", parents=[common], help="add or change an administrator's template (JSON or YAML)"
    )
    save.add_argument("file", metavar="FILE", help="the template definition (docs/templates.md)")
    save.set_defaults(handler=_save)
    remove = cmds.add_parser("remove", parents=[common], help="remove an administrator's template")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=_remove)


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        infos = tw.templates()
    if args.json:
        dump_json([{**i.template.definition(), "version": i.template.version,
                    "builtin": i.template.builtin, "jobs": i.jobs} for i in infos])  # fmt: skip
        return 0
    rows = [
        [i.template.name, str(i.template.version), "built-in" if i.template.builtin else "admin",
         str(i.jobs), i.template.title["en"]]
        for i in infos
    ]  # fmt: skip
    table(rows, ["NAME", "VERSION", "FROM", "JOBS", "TITLE"])
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        template = tw.get_template(args.name)
        links = tw.template_jobs(args.name)
    if args.json:
        dump_json({**template.definition(), "version": template.version,
                   "builtin": template.builtin})  # fmt: skip
        return 0
    lang = args.lang
    print(f"{template.name} (version {template.version}): {template.title[lang]}")
    if template.description[lang]:
        print(template.description[lang])
    rows = []
    for p in template.parameters:
        flags = [f for f in ("required", "secret") if p.get(f)]
        default = "" if "default" not in p else json.dumps(p["default"], ensure_ascii=False)
        rows.append([p["name"], p["type"], ",".join(flags), default,
                     (p.get("help") or {}).get(lang, "")[:70]])  # fmt: skip
    table(rows, ["PARAMETER", "TYPE", "FLAGS", "DEFAULT", "HELP"])
    if links:
        outdated = [link.job_id for link in links if link.template_version != template.version]
        print(f"\n{len(links)} jobs made from it; {len(outdated)} on an older version")
    return 0


def _save(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml

    try:
        data = yaml.safe_load(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput("file", f"cannot be read: {exc}", code="bad_file") from None
    with open_client(args) as tw:
        template = tw.save_template(data, by=tw.actor)
    print(f"saved template {template.name} (version {template.version})")
    return 0


def _remove(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        tw.remove_template(args.name, by=tw.actor)
    print(f"removed template {args.name}")
    return 0


def parse_params(pairs: list[str], schema: list[dict[str, object]]) -> dict[str, object]:
    """``k=v`` pairs as values of their declared types (numbers and booleans as JSON)."""
    by_name = {str(p["name"]): p for p in schema}
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise InvalidInput("--param", f"{pair!r} is not NAME=VALUE", code="bad_param")
        decl = by_name.get(key)
        out[key] = text if decl is None else coerce_text(decl, text)
    return out


def add_from_template(args: argparse.Namespace) -> int:
    if args.cron or args.every is not None or args.at:
        raise InvalidInput("--template", "a template job takes its schedule from the template "
                           "(often a 'schedule' parameter), not --cron/--every/--at")  # fmt: skip
    with open_client(args) as tw:
        template = tw.get_template(args.template)
        params = parse_params(args.param, template.parameters)
        job = tw.add_job_from_template(args.job_id, args.template, params, by=tw.actor, owner="cli")
        nxt = when(job.record.next_fire_at, job.trigger.tz)
        print(f"added {job.id} from template {template.name} (version {template.version}); "
              f"next run {nxt}")  # fmt: skip
    return 0
