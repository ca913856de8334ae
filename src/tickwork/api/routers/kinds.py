"""/api/kinds (the job kinds and whether each is on), /api/settings (what the deployment
configured, read-only), /api/targets/http/test (the job editor's "send test request")."""

from __future__ import annotations

from fastapi import APIRouter

from tickwork.accounts.roles import Role
from tickwork.api import schemas as s
from tickwork.api import schemas_kinds as k
from tickwork.api.security import TW, route
from tickwork.errors import InvalidInput
from tickwork.targets import kinds

router = APIRouter(tags=["kinds"])
TEST_TIMEOUT_S = 15.0  # at most, whatever the target says: the API server waits for it


@route(router, "GET", "/api/kinds", role=Role.VIEWER, response_model=list[k.KindOut])
def list_kinds(tw: TW) -> list[k.KindOut]:
    """The job kinds, in the order the console offers them."""
    out = []
    for name in kinds.NAMES:
        kind = kinds.get(name)
        out.append(
            k.KindOut(
                kind=name,
                label=s.Description(en=kind.label.en, zh=kind.label.zh),
                enabled=name not in tw.settings.kinds_off,
                admin_only=kind.runs_code,
                switch=kind.switch,
                parameter_field=kind.parameter_field,
            )
        )
    return out


@route(router, "GET", "/api/settings", role=Role.ADMIN, response_model=k.SettingsOut)
def get_settings(tw: TW) -> k.SettingsOut:
    """The deployment's settings that decide what jobs may do (set by environment variables on
    each node; shown here as this API node has them)."""
    settings = tw.settings
    return k.SettingsOut(
        ssrf_allow=list(settings.ssrf_allow),
        kinds_off=sorted(settings.kinds_off),
        scripts_sandbox=settings.scripts_sandbox,
        scripts_user=settings.scripts_user,
        allowed_targets=(
            None if settings.allowed_targets is None else list(settings.allowed_targets)
        ),
    )


@route(
    router,
    "POST",
    "/api/targets/http/test",
    role=Role.ADMIN,
    response_model=k.HttpTestOut,
)
def test_http_target(tw: TW, body: k.HttpTestIn) -> k.HttpTestOut:
    """Send the request an HTTP job's target describes, once, from this server and through
    the SSRF guard (at most 15 s), and return what came back. Nothing is stored."""
    from tickwork.connections.kinds import check_name
    from tickwork.executors.outcome import result_text
    from tickwork.executors.redact import redactor
    from tickwork.targets.base import TargetFailed
    from tickwork.targets.http import KIND

    target = {key: value for key, value in body.target.items() if key != "kind"}
    if body.target.get("kind", "http") != "http":
        raise InvalidInput("target.kind", "only HTTP targets can be sent", code="http_only")
    spec = KIND.validate(target)
    spec["timeout_s"] = min(float(spec.get("timeout_s") or TEST_TIMEOUT_S), TEST_TIMEOUT_S)
    spec["_allow"] = list(tw.settings.ssrf_allow)
    masks: list[str] = []
    if spec.get("connection"):
        opened = tw.open_connection(check_name(spec["connection"], "target.connection"))
        if opened.kind != "http":
            raise InvalidInput(
                "target.connection",
                f"connection {opened.name!r} is a {opened.kind} connection",
                code="wrong_connection_kind",
                params={"name": opened.name, "kind": opened.kind, "wanted": "http"},
            )
        spec["_connection"] = opened.fields
        masks.extend(opened.masks)
    redact = redactor(masks)

    class _Discard:
        def write(self, text: str, /) -> None:
            pass

    try:
        result = KIND.execution(spec, spec["timeout_s"]).run(_Discard())
        ok, error = True, None
    except TargetFailed as exc:
        result, ok = exc.result, False
        error = redact(exc.message) if redact else exc.message
    shown = None
    if result is not None:
        import json

        text = result_text(result, 64 * 1024, redact)
        shown = json.loads(text) if text else None
    return k.HttpTestOut(ok=ok, error=error, result=shown)
