"""Flask-APScheduler's REST routes (``SCHEDULER_API_ENABLED``), behind Tickwork's API tokens.

Flask-APScheduler serves them to anyone who can reach the app unless ``SCHEDULER_AUTH`` is
set; Tickwork keeps its rule that every route needs a login: ``Authorization: Bearer
<token>`` of a Tickwork API token, viewer for reads, operator for pause / resume / run /
delete. Tickwork's own REST API (``tickwork.integrations.fastapi`` or ``tickwork serve``) has
everything else."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, jsonify, request

from tickwork.accounts.roles import Role
from tickwork.errors import NotFound, TickworkError
from tickwork.job import Job

if TYPE_CHECKING:
    from tickwork.integrations.flask import APScheduler


def job_dict(job: Job) -> dict[str, Any]:
    """A job as Flask-APScheduler's routes show it."""
    nxt = job.next_run_time
    return {
        "id": job.id,
        "name": job.name,
        "func": job.func_ref,
        "trigger": job.trigger.describe("en"),
        "next_run_time": nxt.isoformat() if nxt is not None else None,
        "paused": job.paused,
        "misfire_grace_time": job.misfire_grace_time,
        "max_instances": job.max_instances,
    }


def _problem(status: int, code: str, detail: str) -> tuple[Response, int]:
    return jsonify({"status": status, "code": code, "detail": detail}), status


def register_routes(scheduler: APScheduler, app: Flask) -> None:
    name = scheduler.endpoint_prefix.rstrip(".") or "scheduler"
    bp = Blueprint(name, __name__, url_prefix=scheduler.api_prefix)
    tw = scheduler.tickwork

    def caller(role: Role) -> tuple[Response, int] | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _problem(401, "unauthenticated", "send 'Authorization: Bearer <API token>'")
        principal = tw.accounts.authenticate_token(token.strip())
        if principal is None:
            return _problem(401, "token_invalid", "the API token is unknown, expired or revoked")
        if not principal.role.covers(role):
            return _problem(403, "role_required", f"this needs the {role.value} role")
        return None

    @bp.get("")
    def info() -> Any:
        if (refused := caller(Role.VIEWER)) is not None:
            return refused
        return jsonify(
            {
                "current_host": socket.gethostname(),
                "allowed_hosts": scheduler.allowed_hosts,
                "running": scheduler.running,
                "nodes": [n.id for n in tw.nodes()],
            }
        )

    @bp.get("/jobs")
    def jobs() -> Any:
        if (refused := caller(Role.VIEWER)) is not None:
            return refused
        return jsonify([job_dict(j) for j in scheduler.get_jobs()])

    @bp.get("/jobs/<job_id>")
    def job(job_id: str) -> Any:
        if (refused := caller(Role.VIEWER)) is not None:
            return refused
        found = scheduler.get_job(job_id)
        if found is None:
            return _problem(404, "not_found", f"job {job_id!r} not found")
        return jsonify(job_dict(found))

    def act(job_id: str, what: str) -> Any:
        if (refused := caller(Role.OPERATOR)) is not None:
            return refused
        try:
            if what == "pause":
                return jsonify(job_dict(scheduler.pause_job(job_id)))
            if what == "resume":
                return jsonify(job_dict(scheduler.resume_job(job_id)))
            if what == "run":
                return jsonify({"run_id": scheduler.run_job(job_id)})
            scheduler.remove_job(job_id)
            return Response(status=204)
        except NotFound:
            return _problem(404, "not_found", f"job {job_id!r} not found")
        except TickworkError as exc:
            return _problem(409, getattr(exc, "code", None) or "refused", str(exc))

    bp.add_url_rule("/jobs/<job_id>/pause", "pause_job", lambda job_id: act(job_id, "pause"),
                    methods=["POST"])  # fmt: skip
    bp.add_url_rule("/jobs/<job_id>/resume", "resume_job", lambda job_id: act(job_id, "resume"),
                    methods=["POST"])  # fmt: skip
    bp.add_url_rule("/jobs/<job_id>/run", "run_job", lambda job_id: act(job_id, "run"),
                    methods=["POST"])  # fmt: skip
    bp.add_url_rule("/jobs/<job_id>", "delete_job", lambda job_id: act(job_id, "delete"),
                    methods=["DELETE"])  # fmt: skip
    app.register_blueprint(bp)
