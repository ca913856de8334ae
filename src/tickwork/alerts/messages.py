"""Alert messages in English or Simplified Chinese, rendered for each channel's format.

Everything that comes from users (job names and ids, errors, findings) is untrusted: it is
escaped for the format it lands in, so a job named ``<img src=x onerror=alert(1)>`` or
``**[click](http://evil)**`` arrives as that text, never as markup or a link. Our own words
and the run link are the only markup."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "failed": "Job {job} failed",
        "timed_out": "Job {job} timed out",
        "lost": "Job {job}: a run was lost (its node stopped answering)",
        "missed": "Job {job} missed its schedule",
        "dead_man": "Job {job} has not run successfully when it was due",
        "consecutive_failures": "Job {job} failed {count} times in a row",
        "error_rate": "Job {job}: {rate} of {runs} runs failed in the last {window}",
        "long_run": "Job {job} ran for {duration} (limit {threshold})",
        "finding": "Job {job} reported {count} finding(s)",
        "metric": "Job {job}: {metric} is {value} (above {above})",
        "recovery": "Job {job} recovered",
        "summary": "...and {count} more alert(s) of rule {rule} for {job} in the last {window}",
        "test": "Test message from Tickwork: channel {channel} works",
        "severity": "Severity",
        "rule": "Rule",
        "run": "Run",
        "status": "Status",
        "error": "Error",
        "expected": "Expected by",
        "last_success": "Last success",
        "never": "never",
        "open": "Open in Tickwork",
        "all_jobs": "all jobs",
    },
    "zh-CN": {
        "failed": "任务 {job} 运行失败",
        "timed_out": "任务 {job} 运行超时",
        "lost": "任务 {job} 的一次运行丢失（所在节点已失联）",
        "missed": "任务 {job} 错过了计划运行",
        "dead_man": "任务 {job} 到期后没有成功运行",
        "consecutive_failures": "任务 {job} 连续失败 {count} 次",
        "error_rate": "任务 {job} 在最近 {window} 内 {runs} 次运行的失败率为 {rate}",
        "long_run": "任务 {job} 运行了 {duration}（上限 {threshold}）",
        "finding": "任务 {job} 报告了 {count} 条发现",
        "metric": "任务 {job} 的 {metric} 为 {value}（超过 {above}）",
        "recovery": "任务 {job} 已恢复",
        "summary": "……以及规则 {rule} 在最近 {window} 内关于 {job} 的另外 {count} 条告警",
        "test": "Tickwork 测试消息：通道 {channel} 可用",
        "severity": "级别",
        "rule": "规则",
        "run": "运行",
        "status": "状态",
        "error": "错误",
        "expected": "应在此前运行",
        "last_success": "上次成功",
        "never": "从未",
        "open": "在 Tickwork 中查看",
        "all_jobs": "所有任务",
    },
}
SEVERITY_WORDS = {
    "en": {"info": "info", "warning": "warning", "critical": "critical"},
    "zh-CN": {"info": "提示", "warning": "警告", "critical": "严重"},
}


def _duration(seconds: float, lang: str) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h" if lang == "en" else f"{int(seconds // 3600)} 小时"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min" if lang == "en" else f"{int(seconds // 60)} 分钟"
    return f"{seconds:g} s" if lang == "en" else f"{seconds:g} 秒"


def _instant(us: Any) -> str:
    if not isinstance(us, int):
        return ""
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True, slots=True)
class Message:
    """A message before rendering: templates (ours) and values (untrusted) kept apart."""

    lang: str
    severity: str
    headline: tuple[str, dict[str, str]]  # template, values
    fields: list[tuple[str, str]] = field(default_factory=list)  # label (ours), value
    details: list[str] = field(default_factory=list)  # untrusted lines (findings)
    link: str | None = None

    def title(self, escape: Callable[[str], str] = lambda s: s) -> str:
        template, values = self.headline
        return template.format(**{k: escape(v) for k, v in values.items()})


def compose(alert: dict[str, Any], lang: str, base_url: str | None, channel: str = "") -> Message:
    """The message of an alert row (its kind, severity, facts)."""
    lang = lang if lang in TEXTS else "en"
    t = TEXTS[lang]
    facts: dict[str, Any] = dict(alert.get("facts") or {})
    kind = str(alert.get("kind"))
    job = str(facts.get("job_name") or facts.get("job_id") or t["all_jobs"])
    values: dict[str, str] = {"job": job}
    template_key = kind
    if kind == "missed" and facts.get("dead_man"):
        template_key = "dead_man"
    elif kind == "consecutive_failures":
        values["count"] = str(facts.get("count", ""))
    elif kind == "error_rate":
        values.update(
            rate=f"{float(facts.get('rate', 0)) * 100:.0f}%",
            runs=str(facts.get("runs", "")),
            window=_duration(float(facts.get("window_s", 0)), lang),
        )
    elif kind == "long_run":
        values.update(
            duration=_duration(float(facts.get("duration_s", 0)), lang),
            threshold=_duration(float(facts.get("threshold_s", 0)), lang),
        )
    elif kind == "finding":
        if facts.get("metric") and not facts.get("finding_count"):
            template_key = "metric"
            values.update(
                metric=str(facts["metric"]),
                value=str(facts.get("value")),
                above=str(facts.get("above")),
            )
        else:
            values["count"] = str(facts.get("finding_count", 0))
    elif kind == "summary":
        values.update(
            count=str(facts.get("count", 0)),
            rule=str(alert.get("rule_id") or ""),
            window=_duration(float(facts.get("dedupe_s", 0)), lang),
        )
    elif kind == "test":
        values = {"channel": channel}
    severity = str(alert.get("severity") or "warning")
    fields: list[tuple[str, str]] = [(t["severity"], SEVERITY_WORDS[lang].get(severity, severity))]
    if alert.get("rule_id"):
        fields.append((t["rule"], str(alert["rule_id"])))
    if facts.get("run_id"):
        fields.append((t["run"], f"#{facts['run_id']}"))
    if facts.get("status") and kind not in ("test", "summary"):
        fields.append((t["status"], str(facts["status"])))
    if facts.get("error"):
        fields.append((t["error"], str(facts["error"])[:500]))
    if facts.get("dead_man"):
        fields.append((t["expected"], _instant(facts.get("expected_at"))))
        last = facts.get("last_success_at")
        fields.append((t["last_success"], _instant(last) if last else t["never"]))
    details = [
        f"[{f.get('severity', '')}] {f.get('object', '')}: {f.get('message', '')}"
        + (f" -> {f['action']}" if f.get("action") else "")
        for f in facts.get("findings") or []
        if isinstance(f, dict)
    ]
    return Message(
        lang=lang,
        severity=severity,
        headline=(TEXTS[lang][template_key], values),
        fields=fields,
        details=details[:10],
        link=_link(base_url, facts),
    )


def _link(base_url: str | None, facts: dict[str, Any]) -> str | None:
    if not base_url:
        return None
    base = base_url.rstrip("/")
    if facts.get("run_id"):
        return f"{base}/runs/{int(facts['run_id'])}"
    if facts.get("job_id"):
        return f"{base}/jobs/{quote(str(facts['job_id']), safe='')}"
    return None


# -- escaping per format --------------------------------------------------------------------------
_ONE_LINE = re.compile(r"[\r\n\t\x00-\x1f\x7f]+")


def one_line(text: str) -> str:
    return _ONE_LINE.sub(" ", text).strip()


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>:])")


def escape_markdown(text: str) -> str:
    """CommonMark (DingTalk, WeCom): punctuation backslash-escaped, < > & as entities, one
    line (no heading, list or quote can start), so no markup or link survives."""
    flat = one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)


_LARK_SPECIAL = re.compile(r"[\\`*_\[\]()<>&#~:|!-]")


def escape_lark(text: str) -> str:
    """Feishu/Lark card markdown: special characters as numeric entities (what its card
    documentation asks for)."""
    return _LARK_SPECIAL.sub(lambda m: f"&#{ord(m[0])};", one_line(text))


_SLACK_FORMAT = str.maketrans({"*": "＊", "_": "＿", "~": "～", "`": "｀"})


def escape_slack(text: str) -> str:
    """Slack mrkdwn: & < > as its three entities (no <url|text> link can be made); its
    formatting marks, which have no escape, become their full-width look-alikes, and a
    zero-width space after "://" keeps Slack from turning an address into a link."""
    flat = one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return flat.translate(_SLACK_FORMAT).replace("://", ":\u200b//")


def escape_html(text: str) -> str:
    return html.escape(text, quote=True)


# -- rendering ------------------------------------------------------------------------------------
def render_text(m: Message) -> str:
    lines = [m.title(one_line), ""]
    lines += [f"{label}: {one_line(value)}" for label, value in m.fields]
    lines += [f"- {one_line(d)}" for d in m.details]
    if m.link:
        lines += ["", f"{TEXTS[m.lang]['open']}: {m.link}"]
    return "\n".join(lines) + "\n"


def render_html(m: Message) -> str:
    rows = "".join(
        f'<tr><th align="left">{escape_html(label)}</th><td>{escape_html(value)}</td></tr>'
        for label, value in m.fields
    )
    details = "".join(f"<li>{escape_html(d)}</li>" for d in m.details)
    link = (
        f'<p><a href="{escape_html(m.link)}">{escape_html(TEXTS[m.lang]["open"])}</a></p>'
        if m.link
        else ""
    )
    return (
        "<!doctype html><html><body>"
        f"<h2>{m.title(escape_html)}</h2><table>{rows}</table>"
        + (f"<ul>{details}</ul>" if details else "")
        + link
        + "</body></html>"
    )


def render_markdown(m: Message, escape: Callable[[str], str] = escape_markdown) -> str:
    """DingTalk and WeCom markdown (and Feishu's, with ``escape_lark``)."""
    lines = [f"**{m.title(escape)}**", ""]
    lines += [f"- {label}: {escape(value)}" for label, value in m.fields]
    lines += [f"- {escape(d)}" for d in m.details]
    if m.link:
        lines += ["", f"[{TEXTS[m.lang]['open']}]({m.link})"]
    return "\n".join(lines)


def render_slack(m: Message) -> str:
    lines = [f"*{m.title(escape_slack)}*"]
    lines += [f"• {label}: {escape_slack(value)}" for label, value in m.fields]
    lines += [f"• {escape_slack(d)}" for d in m.details]
    if m.link:
        lines.append(f"<{m.link}|{TEXTS[m.lang]['open']}>")
    return "\n".join(lines)
