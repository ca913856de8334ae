"""The SSRF guard: which addresses Tickwork may open connections to on a user's behalf.

An HTTP job, a connection test or an alert channel sends a request to an address an
administrator typed. Left alone that is server-side request forgery: the scheduler reaches
what its network can and the user's cannot (cloud metadata at 169.254.169.254, the
database, an admin port on 127.0.0.1, the intranet). xxl-job's HTTP handler was exactly that
(CVE-2025-7787). The rules, on by default:

* only ``http`` and ``https`` URLs, without credentials in them;
* the host name is resolved **once**, every address it resolves to is checked, and the
  connection is made to the checked address (``tickwork.net.http`` pins it), so a DNS answer
  that changes between the check and the connection (rebinding) cannot slip through;
* refused: loopback, private (RFC 1918, ULA), link-local (cloud metadata included), CGNAT
  100.64/10, unspecified, multicast, reserved and documentation ranges (anything Python's
  ``ipaddress`` does not call global), and IPv6 forms that carry an IPv4 address
  (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo);
* IP literals are read in every spelling a resolver or a browser accepts: ``2130706433``,
  ``0177.0.0.1``, ``0x7f.1``, ``127.1``, ``[::ffff:127.0.0.1]``, so no spelling escapes the
  check by being read differently here and in the resolver;
* every redirect is checked the same way (``tickwork.net.http``);
* an administrator allows listed host names (``api.internal``, ``*.corp.example``) or networks
  (``10.20.0.0/16``, ``127.0.0.1``) with ``TICKWORK_SSRF_ALLOW`` (comma-separated).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from tickwork.errors import InvalidInput, TickworkError

ALLOW_ENV = "TICKWORK_SSRF_ALLOW"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to (as text). Tests inject their own.
Resolver = Callable[[str, int], Sequence[str]]

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPAT = ipaddress.ip_network("::/96")  # IPv4-compatible (deprecated), also :: and ::1
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # CGNAT
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?\Z")
_NUMBERISH = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?\Z")
_NUMBER = re.compile(r"^(0x[0-9a-f]*|[0-9]+)\Z")


class OutboundRefused(TickworkError):
    """A connection the SSRF guard refuses (code ``ssrf_refused``)."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target}: {reason}")
        self.target = target
        self.reason = reason
        self.code = "ssrf_refused"
        self.params = {"target": target, "reason": reason}


@dataclass(frozen=True, slots=True)
class Allowlist:
    """What an administrator allows beyond public addresses."""

    hosts: tuple[str, ...] = ()  # lower-case names; "*.example.com" allows its subdomains
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str, field: str = ALLOW_ENV) -> Allowlist:
        hosts: list[str] = []
        networks: list[IPNetwork] = []
        for item in text.split(","):
            entry = item.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            name = entry.removeprefix("*.")
            if not _HOST_NAME.match(name) or _NUMBERISH.match(name):
                raise InvalidInput(
                    field,
                    f"{item.strip()!r} is neither a host name, '*.domain', an address nor a "
                    "network",
                    code="bad_allow_entry",
                    params={"entry": item.strip()},
                )
            hosts.append(entry.rstrip("."))
        return cls(tuple(hosts), tuple(networks))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Allowlist:
        env = os.environ if env is None else env
        return cls.parse(env.get(ALLOW_ENV, ""))

    def entries(self) -> list[str]:
        """The list as an administrator wrote it (for the settings page)."""
        return [*self.hosts, *(str(n) for n in self.networks)]

    def allows_host(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        for entry in self.hosts:
            if entry.startswith("*."):
                if name.endswith(entry[1:]):
                    return True
            elif name == entry:
                return True
        return False

    def allows_address(self, ip: IPAddress) -> bool:
        return any(ip.version == n.version and ip in n for n in self.networks)


NOTHING = Allowlist()


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form a resolver accepts (None: it is a name).

    IPv4 follows inet_aton(3), as resolvers and browsers do: one to four parts, each
    decimal, octal (leading 0) or hex (0x), the last part filling the remaining bytes
    (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``). A host that looks numeric but
    is not a valid address is refused rather than handed to a resolver to guess.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        address, _, zone = text.partition("%")
        try:
            ip = ipaddress.IPv6Address(address)
        except ValueError:
            raise OutboundRefused(host, "is not a valid IPv6 address") from None
        if zone:
            raise OutboundRefused(host, "carries an IPv6 zone id (a link-local address)")
        return ip
    lowered = text.lower()
    parts = lowered.rstrip(".").split(".")
    # As browsers decide (WHATWG URL, "ends in a number"): a host whose last label is a
    # number is an IPv4 address, and one that does not parse as such is no host at all.
    if not _NUMBER.match(parts[-1]):
        return None
    values: list[int] = []
    for part in parts:
        try:
            if part.startswith("0x"):
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10))
        except ValueError:
            raise OutboundRefused(host, "looks like an IP address but is not one") from None
    if len(values) > 4:
        raise OutboundRefused(host, "looks like an IP address but has more than four parts")
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        raise OutboundRefused(host, "looks like an IP address but a part is out of range")
    number = 0
    for v in head:
        number = number * 256 + v
    number = (number << (8 * (5 - len(values)))) | last
    return ipaddress.IPv4Address(number)


def refusal(ip: IPAddress, allow: Allowlist = NOTHING) -> str | None:
    """Why a connection to ``ip`` is refused (None: it is allowed)."""
    if allow.allows_address(ip):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"is an IPv4-mapped IPv6 address (of {ip.ipv4_mapped})"
        if any(ip in net for net in _NAT64):
            return "is a NAT64 address (it carries an IPv4 address)"
        if ip.sixtofour is not None:
            return f"is a 6to4 address (of {ip.sixtofour})"
        if ip.teredo is not None:
            return "is a Teredo address (it carries an IPv4 address)"
        if ip in _COMPAT and not ip.is_unspecified and not ip.is_loopback:
            return "is an IPv4-compatible IPv6 address"
    if ip.is_unspecified:
        return "is the unspecified address"
    if ip.is_loopback:
        return "is a loopback address"
    if ip.is_link_local:
        return "is a link-local address (cloud metadata lives there)"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "is a carrier-grade NAT address (100.64.0.0/10)"
    if ip.is_multicast:
        return "is a multicast address"
    if ip.is_private:
        return "is a private or reserved address"
    if not ip.is_global:
        return "is not a public address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, for TCP."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_checked(
    host: str,
    port: int,
    allow: Allowlist = NOTHING,
    resolver: Resolver | None = None,
) -> IPAddress:
    """The one address to connect to for ``host``: checked, never resolved again.

    A name allowed by the allowlist may resolve anywhere. Otherwise every address the name
    resolves to must pass (a name that resolves to a public and a private address is
    refused: which one a client picks is not ours to guess).
    """
    literal = parse_ip_literal(host)
    if literal is not None:
        why = refusal(literal, allow)
        if why is not None:
            raise OutboundRefused(host, f"{literal} {why}")
        return literal
    name = host.lower().rstrip(".")
    if not _HOST_NAME.match(name):
        raise OutboundRefused(host, "is not a valid host name")
    try:
        found = (resolver or system_resolver)(name, port)
    except (OSError, UnicodeError) as exc:
        raise OutboundRefused(host, f"does not resolve ({exc})") from None
    addresses: list[IPAddress] = []
    for text in found:
        try:
            addresses.append(ipaddress.ip_address(str(text).partition("%")[0]))
        except ValueError:
            raise OutboundRefused(host, f"resolved to {text!r}, not an address") from None
    if not addresses:
        raise OutboundRefused(host, "resolves to no address")
    if allow.allows_host(name):
        return addresses[0]
    for ip in addresses:
        why = refusal(ip, allow)
        if why is not None:
            raise OutboundRefused(host, f"resolves to {ip}, which {why}")
    return addresses[0]


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked URL: where to connect (``address``) and what to call it (``host``)."""

    url: str
    scheme: str
    host: str  # as the URL names it (Host header, TLS name)
    port: int
    address: IPAddress  # the checked address the connection goes to
    path: str  # path and query, for the request line

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host.lower(), self.port


def split_url(url: Any, field: str = "url") -> SplitResult:
    """The parts of an http(s) URL; refused (InvalidInput naming ``field``) otherwise."""
    if not isinstance(url, str) or not url:
        raise InvalidInput(field, "must be an http:// or https:// URL", code="bad_url")
    if len(url) > 4096:
        raise InvalidInput(
            field, "is longer than 4096 characters", code="too_long", params={"max": 4096}
        )
    if any(ord(c) < 33 or ord(c) == 127 or c == "\\" for c in url):
        raise InvalidInput(
            field, "contains spaces, control characters or backslashes", code="bad_url"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(field, f"is not a valid URL ({exc})", code="bad_url") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(
            field,
            f"scheme {parts.scheme!r} is not allowed; only http and https",
            code="bad_url_scheme",
            params={"scheme": parts.scheme},
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidInput(
            field,
            "must not carry credentials; use a named HTTP connection for authentication",
            code="url_credentials",
        )
    if not parts.hostname:
        raise InvalidInput(field, "has no host", code="bad_url")
    if port == 0:
        raise InvalidInput(field, "port 0 is not a port", code="bad_url")
    return parts


def check_literal_host(url: str, allow: Allowlist, field: str = "url") -> None:
    """At definition time: refuse a URL whose host is an IP literal the guard refuses (a
    name is checked when it is resolved, at each request)."""
    host = split_url(url, field).hostname or ""
    try:
        literal = parse_ip_literal(host)
        why = None if literal is None else refusal(literal, allow)
    except OutboundRefused as exc:
        why, literal = exc.reason, None
    if why is not None:
        shown = f"{literal} {why}" if literal is not None else why
        raise InvalidInput(
            field,
            f"{host}: {shown} (the SSRF guard refuses it; an administrator may allow it with "
            f"{ALLOW_ENV})",
            code="ssrf_refused",
            params={"target": host, "reason": shown},
        )


def destination(
    url: str, allow: Allowlist = NOTHING, resolver: Resolver | None = None
) -> Destination:
    """Check ``url`` and resolve its host once; where a request to it must connect."""
    try:
        parts = split_url(url)
    except InvalidInput as exc:
        raise OutboundRefused(url[:200] if isinstance(url, str) else "url", exc.reason) from None
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve_checked(host, port, allow, resolver)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    shown_host = f"[{host}]" if ":" in host else host
    return Destination(url, parts.scheme, shown_host, port, address, path)


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, as :attr:`Destination.origin` names it."""
    parts = split_url(url)
    host = parts.hostname or ""
    shown = f"[{host}]" if ":" in host else host
    return parts.scheme, shown.lower(), parts.port or (443 if parts.scheme == "https" else 80)
