"""Outbound network access on behalf of jobs, connection tests and (later) alert channels:
the SSRF guard (``tickwork.net.ssrf``) and an HTTP client pinned to the address the guard
checked (``tickwork.net.http``)."""

from __future__ import annotations
