"""Settings of the API server (from ``TICKWORK_*`` variables; the secret key from the
environment or the data directory's key file)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tickwork.accounts import keys
from tickwork.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ApiSettings:
    secret_key: str
    max_body_bytes: int = 1024 * 1024
    cookie_secure: bool | None = None  # None: Secure when the request came over HTTPS
    hsts: bool = False  # send Strict-Transport-Security on HTTPS responses
    console: bool = True  # mount the web console at / when its built files are present
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or
    # CIDR networks; env TICKWORK_TRUSTED_PROXIES, comma-separated). Empty: none, so a
    # client's own address is what the login throttle and the sessions see.
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        keys.check_secret_key(self.secret_key)

    @classmethod
    def from_env(cls, data_dir: Path, env: Mapping[str, str] | None = None) -> ApiSettings:
        """Raises InvalidInput when there is no usable secret key."""
        env = os.environ if env is None else env
        secret = keys.load_secret_key(data_dir, env)
        max_body = env.get("TICKWORK_MAX_BODY_BYTES")
        secure = env.get("TICKWORK_COOKIE_SECURE")
        try:
            size = int(max_body) if max_body else 1024 * 1024
        except ValueError:
            raise InvalidInput("TICKWORK_MAX_BODY_BYTES", "must be a whole number") from None
        return cls(
            secret_key=secret,
            max_body_bytes=size,
            cookie_secure=None if not secure else secure.lower() in ("1", "true", "yes"),
            hsts=env.get("TICKWORK_HSTS", "").lower() in ("1", "true", "yes"),
            trusted_proxies=parse_proxies(env.get("TICKWORK_TRUSTED_PROXIES", "")),
        )


def parse_proxies(text: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks; refused naming the setting if malformed."""
    import ipaddress

    out = []
    for item in text.split(","):
        entry = item.strip()
        if not entry:
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise InvalidInput(
                "TICKWORK_TRUSTED_PROXIES", f"{entry!r} is not an IP address or network"
            ) from None
        out.append(entry)
    return tuple(out)
