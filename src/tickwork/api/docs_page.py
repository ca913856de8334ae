"""``/api/docs``: the API reference rendered on the server from the OpenAPI document, as
plain escaped HTML (no script, nothing from a CDN, so it lives under the strict CSP)."""

from __future__ import annotations

import html
from typing import Any

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.op{margin:1rem 0;padding:.6rem .8rem;border:1px solid #e3e3e3;border-radius:6px}
.m{display:inline-block;min-width:4.5rem;font-weight:600}.role{float:right;font-size:.85rem;
color:#555}code{background:#f4f4f4;padding:0 .25rem;border-radius:3px}
.params{font-size:.9rem;color:#444;margin:.3rem 0 0 0}p{margin:.3rem 0}
"""


def css() -> str:
    return _CSS


def render(spec: dict[str, Any]) -> str:
    e = html.escape
    info = spec.get("info", {})
    groups: dict[str, list[str]] = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            tag = (op.get("tags") or ["other"])[0]
            params = ", ".join(
                f"<code>{e(p['name'])}</code> ({e(p.get('in', ''))})"
                for p in op.get("parameters", [])
            )
            body = "requestBody" in op
            doc = e(op.get("description") or op.get("summary") or "").replace("\n\n", "<br>")
            groups.setdefault(tag, []).append(
                f'<div class="op"><span class="m">{e(method.upper())}</span>'
                f"<code>{e(path)}</code>"
                f'<span class="role">role: {e(str(op.get("x-required-role", "?")))}</span>'
                f"<p>{doc}</p>"
                + (f'<p class="params">parameters: {params}</p>' if params else "")
                + ('<p class="params">JSON body</p>' if body else "")
                + "</div>"
            )
    sections = "".join(f"<h2>{e(tag)}</h2>{''.join(ops)}" for tag, ops in sorted(groups.items()))
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{e(info.get('title', 'API'))}</title>"
        '<link rel=stylesheet href="/api/docs.css"></head><body>'
        f"<h1>{e(info.get('title', 'API'))} {e(info.get('version', ''))}</h1>"
        '<p>The machine-readable document is <a href="/api/openapi.json">/api/openapi.json</a>. '
        "Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> or a console "
        "session (writes need <code>X-CSRF-Token</code>). Errors are "
        "<code>application/problem+json</code>.</p>"
        f"{sections}</body></html>"
    )
