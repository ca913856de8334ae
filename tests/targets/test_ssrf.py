"""The SSRF guard (issue 17): refusals are checked at the resolve-and-check step, without
connecting anywhere (a broken guard can never send traffic off this machine); real requests
go only to a server of the test's own on 127.0.0.1, allowed for the test."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from urllib.parse import quote

import pytest

from tests.targets.local_http import LocalServer, local_server
from tickwork.errors import InvalidInput
from tickwork.net import http, ssrf

LOCAL = ssrf.Allowlist.parse("127.0.0.1")


def no_resolver(host: str, port: int) -> Sequence[str]:
    raise AssertionError(f"{host} must not be resolved: it is an address")


def fixed(*addresses: str) -> ssrf.Resolver:
    def resolve(host: str, port: int) -> Sequence[str]:
        return list(addresses)

    return resolve


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as s:
        yield s


# -- every spelling of a refused address -------------------------------------------------------
REFUSED = [
    # loopback, in every spelling resolvers accept
    ("127.0.0.1", "loopback"),
    ("2130706433", "loopback"),  # decimal
    ("0177.0.0.1", "loopback"),  # octal
    ("0x7f.1", "loopback"),  # hex, short form
    ("0x7f000001", "loopback"),
    ("127.1", "loopback"),  # short form
    ("017700000001", "loopback"),  # octal, one part
    ("127.000.000.001", "loopback"),
    ("[::1]", "loopback"),
    ("[0:0:0:0:0:0:0:1]", "loopback"),
    # IPv6 forms carrying IPv4
    ("[::ffff:127.0.0.1]", "IPv4-mapped"),
    ("[::ffff:7f00:1]", "IPv4-mapped"),
    ("[::ffff:169.254.169.254]", "IPv4-mapped"),
    ("[64:ff9b::7f00:1]", "NAT64"),
    ("[64:ff9b::a9fe:a9fe]", "NAT64"),
    ("[2002:7f00:1::1]", "6to4"),
    ("[::127.0.0.1]", "IPv4-compatible"),
    # private (RFC 1918, ULA)
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("0xc0.0xa8.1.1", "private"),
    ("[fd00::1]", "private"),
    # link-local, cloud metadata included
    ("169.254.169.254", "link-local"),
    ("2852039166", "link-local"),  # 169.254.169.254 as one number
    ("0xa9.0xfe.0xa9.0xfe", "link-local"),
    ("[fe80::1]", "link-local"),
    # CGNAT
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    # unspecified, multicast, reserved, broadcast, documentation
    ("0.0.0.0", "unspecified"),
    ("0", "unspecified"),
    ("[::]", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("[ff02::1]", "multicast"),
    ("240.0.0.1", "private or reserved"),
    ("255.255.255.255", "private or reserved"),
    ("192.0.2.10", "private or reserved"),
]


@pytest.mark.parametrize(("host", "why"), REFUSED)
def test_refused_addresses_in_any_spelling(host: str, why: str) -> None:
    with pytest.raises(ssrf.OutboundRefused) as caught:
        ssrf.resolve_checked(host, 80, resolver=no_resolver)
    assert why in caught.value.reason
    assert caught.value.code == "ssrf_refused"


@pytest.mark.parametrize("host", ["1.2.3.4.5", "0x1g.0.0.1", "256.1.1.1", "1.2.3.0400"])
def test_malformed_numeric_hosts_are_refused_not_guessed(host: str) -> None:
    with pytest.raises(ssrf.OutboundRefused):
        ssrf.resolve_checked(host, 80, resolver=no_resolver)


@pytest.mark.parametrize(
    ("spelling", "address"),
    [("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"),
     ("127.1", "127.0.0.1"), ("1.2.3", "1.2.0.3"), ("8.8.8.8", "8.8.8.8"),
     ("[::ffff:127.0.0.1]", "::ffff:7f00:1")],
)  # fmt: skip
def test_numeric_spellings_read_as_resolvers_read_them(spelling: str, address: str) -> None:
    assert ssrf.parse_ip_literal(spelling) == ipaddress.ip_address(address)


def test_public_addresses_pass_the_check_without_connecting() -> None:
    assert str(ssrf.resolve_checked("93.184.215.14", 443, resolver=no_resolver)) == "93.184.215.14"
    assert str(ssrf.resolve_checked("[2606:4700::1111]", 443, resolver=no_resolver)) == (
        "2606:4700::1111"
    )
    # a name resolving to public addresses only is pinned to the first of them
    pinned = ssrf.resolve_checked("example.test", 443, resolver=fixed("93.184.215.14", "1.1.1.1"))
    assert str(pinned) == "93.184.215.14"


@pytest.mark.parametrize(
    "answer",
    [["127.0.0.1"], ["10.1.2.3"], ["169.254.169.254"], ["93.184.215.14", "192.168.0.7"],
     ["::1"], ["::ffff:10.0.0.1"], ["100.64.1.1"]],
)  # fmt: skip
def test_a_name_that_resolves_to_a_refused_address_is_refused(answer: list[str]) -> None:
    with pytest.raises(ssrf.OutboundRefused, match="resolves to"):
        ssrf.resolve_checked("innocent.example", 80, resolver=fixed(*answer))


def test_localhost_resolved_by_the_system_is_refused() -> None:
    """``localhost`` resolves to 127.0.0.1 (or ::1) through the real resolver."""
    with pytest.raises(ssrf.OutboundRefused, match=r"resolves to .* loopback"):
        ssrf.resolve_checked("localhost", 80)


def test_the_allowlist_allows_networks_and_names() -> None:
    allow = ssrf.Allowlist.parse("10.20.0.0/16, internal.corp, *.svc.cluster, ::1")
    assert str(ssrf.resolve_checked("10.20.3.4", 80, allow, no_resolver)) == "10.20.3.4"
    with pytest.raises(ssrf.OutboundRefused):
        ssrf.resolve_checked("10.21.0.1", 80, allow, no_resolver)
    assert str(ssrf.resolve_checked("[::1]", 80, allow, no_resolver)) == "::1"
    # an allowed name may resolve anywhere; its sibling may not
    assert str(ssrf.resolve_checked("internal.corp", 80, allow, fixed("10.9.9.9"))) == "10.9.9.9"
    assert str(ssrf.resolve_checked("api.svc.cluster", 80, allow, fixed("10.9.9.9")))
    with pytest.raises(ssrf.OutboundRefused):
        ssrf.resolve_checked("other.corp", 80, allow, fixed("10.9.9.9"))
    assert allow.entries() == ["internal.corp", "*.svc.cluster", "10.20.0.0/16", "::1/128"]


@pytest.mark.parametrize("entry", ["not a host!", "0x7f.1", "http://x"])
def test_a_bad_allowlist_entry_is_refused_naming_the_setting(entry: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ssrf.Allowlist.parse(f"10.0.0.0/8,{entry}")
    assert caught.value.field == ssrf.ALLOW_ENV


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://127.0.0.1/", "ftp://example.com/", "http://user:pw@x.org/",
     "http://x.org@127.0.0.1/", "http://exa mple.org/", "http://x.org\\@127.0.0.1/", "//x.org/",
     "http:///path", "http://x.org:0/"],
)  # fmt: skip
def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(ssrf.OutboundRefused):
        ssrf.destination(url, resolver=no_resolver)


# -- real requests, to the test's own server on 127.0.0.1 only ---------------------------------
def test_a_request_to_the_allowed_local_server(server: LocalServer) -> None:
    response = http.Request("GET", f"{server.url}/ok", allow=LOCAL).send()
    assert (response.status, response.body) == (200, b'{"ok": true}')


def test_the_local_server_itself_is_refused_unless_allowed(server: LocalServer) -> None:
    with pytest.raises(ssrf.OutboundRefused, match="loopback"):
        http.Request("GET", f"{server.url}/ok").send()
    assert server.seen == []  # nothing was sent


def test_a_redirect_to_a_refused_address_is_refused(server: LocalServer) -> None:
    """The first hop is allowed by name; the 302 points at 127.0.0.1 by address, which is
    not allowed: refused before any connection to it."""
    allow = ssrf.Allowlist.parse("front.test")
    front = fixed("127.0.0.1")  # front.test is the test's server, allowed by name
    target = f"http://127.0.0.1:{server.port}/ok"
    request = http.Request(
        "GET", f"http://front.test:{server.port}/redirect?to={target}", allow=allow,
        resolver=front,
    )  # fmt: skip
    with pytest.raises(ssrf.OutboundRefused, match=r"127\.0\.0\.1 is a loopback address"):
        request.send()
    assert [s.path for s in server.seen] == [f"/redirect?to={target}"]


def test_a_redirect_to_a_name_resolving_to_loopback_is_refused(server: LocalServer) -> None:
    allow = ssrf.Allowlist.parse("front.test")
    resolver = fixed("127.0.0.1")  # both names resolve to the test's server
    target = f"http://sneaky.test:{server.port}/ok"
    request = http.Request(
        "GET", f"http://front.test:{server.port}/redirect?to={target}", allow=allow,
        resolver=resolver,
    )  # fmt: skip
    with pytest.raises(ssrf.OutboundRefused, match=r"sneaky\.test: resolves to 127\.0\.0\.1"):
        request.send()
    assert len(server.seen) == 1


def test_redirects_within_the_allowed_are_followed(server: LocalServer) -> None:
    to = f"{server.url}/echo"
    response = http.Request("GET", f"{server.url}/redirect?to={to}", allow=LOCAL).send()
    assert response.status == 200
    assert response.redirects == [to]


def test_credentials_never_follow_a_redirect_to_another_origin(server: LocalServer) -> None:
    """The auth header of a connection goes to its origin only (xxl-job sent its token to
    user-chosen addresses, CVE-2022-43183)."""
    allow = ssrf.Allowlist.parse("127.0.0.1,other.test")
    other = f"http://other.test:{server.port}/echo"
    request = http.Request(
        "GET",
        f"{server.url}/redirect?to={other}",
        headers=[("Authorization", "Bearer canary-token-1"), ("X-Api-Key", "canary-key-2")],
        allow=allow,
        resolver=fixed("127.0.0.1"),
        secret_headers=["X-Api-Key"],
    )
    response = request.send()
    assert response.status == 200
    first, second = server.seen
    assert first.headers.get("Authorization") == "Bearer canary-token-1"
    assert "Authorization" not in second.headers
    assert "X-Api-Key" not in second.headers
    assert second.headers["Host"] == f"other.test:{server.port}"


def test_the_body_is_bounded(server: LocalServer) -> None:
    response = http.Request("GET", f"{server.url}/big", allow=LOCAL, max_body=1000).send()
    assert (len(response.body), response.truncated) == (1000, True)


def _chain(depth: int) -> str:
    """A path that redirects ``depth`` times before it reaches /ok."""
    path = "/ok"
    for _ in range(depth):
        path = "/redirect?to=" + quote(path, safe="")
    return path


def test_redirects_are_bounded(server: LocalServer) -> None:
    assert http.Request("GET", server.url + _chain(5), allow=LOCAL).send().status == 200
    with pytest.raises(http.HttpError, match="more than 5 redirects"):
        http.Request("GET", server.url + _chain(6), allow=LOCAL).send()
