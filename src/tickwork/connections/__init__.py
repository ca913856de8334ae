"""Named credentials and secrets at rest: the vault (``tickwork.connections.vault``) and the
sealing of job secrets (``tickwork.connections.job_secrets``); connection kinds join them."""

from __future__ import annotations
