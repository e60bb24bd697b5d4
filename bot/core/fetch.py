"""A page or feed fetched from the web without letting a link reach inside the network (SSRF).

Every connection, the first and each one after a redirect (redirects are followed here, one hop
at a time), resolves the host itself and is refused when any of its addresses is private,
loopback, link-local, multicast, reserved, unspecified or a cloud metadata address (IPv4 inside
IPv6 included), unless ``allow_private`` (which never opens the metadata addresses). The socket
is then opened to the very address that was checked, while the HTTP ``Host`` header, TLS SNI and
certificate check keep the host name: a DNS answer that changes between the check and the
connect (rebinding) cannot redirect it. That happens in ``_CheckedBackend``, the network backend
of httpcore's connection pool; no proxy from the environment is used (a proxy would be the
address checked, not the page).

Async because the whole fetch, redirects and a page that trickles in included, must end by a
deadline, which only cancellation gives; the size cap is counted on the decoded body while it
streams. Every refusal is a ``FetchError``: a ``Refused`` whose reason names a text in
``bot.core.texts``, so readers get it in their language.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from bot.core.corpus import Refused
from bot.core.settings import Settings

logger = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
)
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "article-qa-bot/0.1 (+news articles for a question-answering bot)"
# Cloud metadata services; all of them are also link-local or private, named here to be plain about it.
METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# The addresses a host name resolves to (the default asks the system resolver).
Resolve = Callable[[str, int], Awaitable[Sequence[str]]]
# Whether a non-public address may be reached anyway for this host (tests; ALLOW_PRIVATE_URLS is all hosts).
Permit = Callable[[str, IPAddress], bool]


class FetchError(Refused):
    """A page or feed that is not fetched; ``reason`` names a text in ``bot.core.texts``."""


@dataclass(frozen=True)
class Page:
    """What a fetch brought: the final URL (after redirects), status (200, or 304 for a feed not
    changed), body, content type and the validators a feed is asked again with."""

    url: str
    status: int
    content: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None


async def system_resolve(host: str, port: int) -> Sequence[str]:
    """Every address the system resolver gives for ``host``."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is an ordinary Internet address: not private, loopback, link-local,
    multicast, reserved, unspecified or metadata, also when it is IPv4 carried in IPv6."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and not is_public(embedded):
            return False
    return not (
        address in METADATA
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global  # shared (100.64/10), documentation, benchmarking ranges
    )


def is_metadata(address: IPAddress) -> bool:
    """Whether ``address`` is a cloud metadata service, also as IPv4 carried in IPv6."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in METADATA


def loggable(url: str) -> str:
    """``url`` without its query and fragment, for the log."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


@dataclass(frozen=True)
class Fetcher:
    """Fetches pages and feeds under one policy: a size cap, a total deadline, public addresses only."""

    max_bytes: int = 2_000_000
    timeout: float = 10.0
    allow_private: bool = False
    resolve: Resolve = system_resolve
    permit: Permit | None = None
    user_agent: str = USER_AGENT

    @classmethod
    def from_settings(cls, settings: Settings) -> Fetcher:
        return cls(
            max_bytes=settings.max_page_bytes,
            timeout=settings.fetch_timeout_seconds,
            allow_private=settings.allow_private_urls,
        )

    async def page(self, url: str) -> Page:
        """The HTML page at ``url``; FetchError when it cannot be, or may not be, fetched."""
        return await self.fetch(url, HTML_TYPES, kind="fetch_not_html")

    async def feed(self, url: str, etag: str | None = None, modified: str | None = None) -> Page:
        """The feed at ``url``, asked with its last ETag and Last-Modified; status 304 when unchanged."""
        headers = {"If-None-Match": etag} if etag else {}
        if modified:
            headers["If-Modified-Since"] = modified
        return await self.fetch(url, FEED_TYPES, kind="fetch_not_feed", headers=headers)

    async def fetch(
        self, url: str, types: Iterable[str], *, kind: str, headers: Mapping[str, str] | None = None
    ) -> Page:
        """GET ``url``, following up to MAX_REDIRECTS redirects, within ``timeout`` in all."""
        try:
            async with asyncio.timeout(self.timeout):
                accept = {"Accept": ", ".join(sorted(types))}
                return await self._fetch(url, frozenset(types), kind, accept | dict(headers or {}))
        except TimeoutError:
            raise FetchError("fetch_timeout", seconds=f"{self.timeout:g}") from None

    async def _fetch(self, url: str, types: frozenset[str], kind: str, headers: dict[str, str]) -> Page:
        async with self._client() as client:
            for _hop in range(MAX_REDIRECTS + 1):
                _check_url(url)
                logger.info("fetching %s", loggable(url))
                try:
                    async with client.stream("GET", url, headers=headers) as response:
                        if response.status_code in REDIRECTS:  # httpx's is_redirect counts 304 too
                            url = _next_hop(response)
                            continue
                        return await self._read(response, types, kind)
                except httpx.TimeoutException:
                    raise FetchError("fetch_timeout", seconds=f"{self.timeout:g}") from None
                except httpx.HTTPError as exc:
                    logger.info("could not fetch %s: %s", loggable(url), exc)
                    raise FetchError("fetch_unreachable", host=urlsplit(url).hostname or "") from None
            raise FetchError("fetch_redirects", limit=MAX_REDIRECTS)

    async def _read(self, response: httpx.Response, types: frozenset[str], kind: str) -> Page:
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        if response.status_code == 304:
            return Page(str(response.url), 304, b"", "", etag, modified)
        if response.status_code != 200:
            raise FetchError("fetch_status", status=response.status_code)
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in types:
            raise FetchError(kind, type=content_type or "?")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError("fetch_size", limit=_megabytes(self.max_bytes))
        body = bytearray()
        async for chunk in response.aiter_bytes():  # decoded: a compressed bomb is capped too
            body += chunk
            if len(body) > self.max_bytes:
                raise FetchError("fetch_size", limit=_megabytes(self.max_bytes))
        return Page(str(response.url), 200, bytes(body), content_type, etag, modified)

    def _client(self) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(retries=0, trust_env=False)
        # httpx takes no network backend, so the pool it made is replaced by one that connects
        # through the checked backend (same TLS context). Checked by tests/bot/test_fetch.py.
        pool = transport._pool
        assert isinstance(pool, httpcore.AsyncConnectionPool), "httpx changed how it builds its pool"
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=pool._ssl_context,
            network_backend=_CheckedBackend(self.resolve, self._allowed),
            retries=0,
        )
        return httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": self.user_agent},
        )

    def _allowed(self, host: str, address: IPAddress) -> bool:
        if is_metadata(address):  # never, not even with ALLOW_PRIVATE_URLS: it hands out cloud credentials
            return False
        return self.allow_private or is_public(address) or (self.permit is not None and self.permit(host, address))


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError("fetch_scheme")
    if not parts.hostname:
        raise FetchError("fetch_host")


def _next_hop(response: httpx.Response) -> str:
    location = response.headers.get("location", "").strip()
    if not location:
        raise FetchError("fetch_status", status=response.status_code)
    target = response.url.join(location)
    logger.info("redirected to %s", loggable(str(target)))
    return str(target)


def _megabytes(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB"


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Opens each connection to an address of the host that passed the check, never another."""

    def __init__(self, resolve: Resolve, allowed: Callable[[str, IPAddress], bool]) -> None:
        self._resolve = resolve
        self._allowed = allowed
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._addresses(host, port)
        refused = [a for a in addresses if not self._allowed(host, a)]
        if refused:  # any: a host that also resolves to a private address is not fetched
            logger.info("refused %s: %s is not a public address", host, refused[0])
            raise FetchError("fetch_private", host=host, address=str(refused[0]))
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        try:
            found = [ipaddress.ip_address(a.split("%")[0]) for a in await self._resolve(host, port)]
        except (OSError, ValueError):
            found = []
        if not found:
            raise FetchError("fetch_dns", host=host)
        return found

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise FetchError("fetch_host")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
