"""The safe page fetch against a real web server on loopback: what it refuses, and why, per hop."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator, Sequence

import pytest

from bot.core.fetch import MAX_REDIRECTS, Fetcher, FetchError, is_public
from bot.core.texts import text
from tests.support.web import Route, Site, serve

PAGE = (
    b"<html><body><article><p>" + b"Een gewone zin over het nieuws van vandaag. " * 10 + b"</p></article></body></html>"
)


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as running:
        running.routes["/page"] = Route(PAGE)
        yield running


def reason(exc: pytest.ExceptionInfo[FetchError]) -> str:
    return text("en", exc.value.reason, **exc.value.values)


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "127.8.8.8",
        "0.0.0.0",
        "169.254.169.254",
        "169.254.1.1",
        "100.64.0.1",
        "100.100.100.200",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fc00::1",
        "fd00:ec2::254",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
    ],
)
def test_private_local_and_metadata_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_ipv4_mapped_addresses_are_refused_even_for_a_public_ipv4() -> None:
    # ::ffff:0:0/96 is itself reserved: no DNS answer should carry it, so none is trusted.
    assert not is_public(ipaddress.ip_address("::ffff:93.184.215.14"))


async def test_a_page_on_loopback_is_fetched_only_when_private_urls_are_allowed(site: Site) -> None:
    page = await Fetcher(allow_private=True).page(site.url("/page"))
    assert page.status == 200 and page.content == PAGE and page.content_type == "text/html"
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(FetchError) as refused:
            await Fetcher().page(site.url("/page", host))
        assert reason(refused) == "the address of " + host + " is private or local (127.0.0.1)"
    assert len(site.requests_to("/page")) == 1  # the refused ones never connected


async def test_every_redirect_hop_is_checked_again(site: Site) -> None:
    """The first host, news.test, is let through by a permit hook (offline, no public host can serve
    the test); the hop it redirects to is checked like any first request and refused."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1"] if host == "news.test" else []

    fetcher = Fetcher(resolve=resolve, permit=lambda host, _address: host == "news.test")
    site.routes["/hop"] = Route(status=302, headers={"Location": "/page"})
    page = await fetcher.page(site.url("/hop", "news.test"))  # a redirect on the same host is followed
    assert page.url == site.url("/page", "news.test") and page.content == PAGE
    for target, refusal in [
        (site.url("/page", "127.0.0.1"), "the address of 127.0.0.1 is private or local (127.0.0.1)"),
        ("http://169.254.169.254/latest/meta-data/", "the address of 169.254.169.254 is private or local"),
        ("http://[::ffff:127.0.0.1]/", "the address of ::ffff:127.0.0.1 is private or local"),
        ("file:///etc/passwd", "only http:// and https:// links can be fetched"),
    ]:
        site.routes["/away"] = Route(status=301, headers={"Location": target})
        with pytest.raises(FetchError) as refused:
            await fetcher.page(site.url("/away", "news.test"))
        assert reason(refused).startswith(refusal)
    assert len(site.requests_to("/page")) == 1


async def test_the_connection_goes_to_the_address_that_was_checked(site: Site) -> None:
    """The resolver is asked once per connection and the socket opened to its answer (news.test has
    no DNS at all), while the request still names the host: no second lookup to rebind."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return ["127.0.0.1"]

    fetcher = Fetcher(resolve=resolve, permit=lambda host, _address: host == "news.test")
    await fetcher.page(site.url("/page", "news.test"))
    assert asked == ["news.test"]
    assert site.requests_to("/page")[-1].headers["host"] == f"news.test:{site.port}"


async def test_a_host_with_any_private_address_is_refused(site: Site) -> None:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return ["93.184.215.14", "10.0.0.7"]

    with pytest.raises(FetchError) as refused:
        await Fetcher(resolve=resolve).page("https://mixed.test/")
    assert reason(refused) == "the address of mixed.test is private or local (10.0.0.7)"


async def test_too_many_redirects_are_refused(site: Site) -> None:
    site.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    with pytest.raises(FetchError) as refused:
        await Fetcher(allow_private=True).page(site.url("/loop"))
    assert reason(refused) == f"it redirects more than {MAX_REDIRECTS} times"
    assert len(site.requests_to("/loop")) == MAX_REDIRECTS + 1


async def test_a_page_over_the_size_cap_is_refused(site: Site) -> None:
    site.routes["/big"] = Route(b"<p>" + b"x" * 3_000_000 + b"</p>")
    with pytest.raises(FetchError) as refused:
        await Fetcher(allow_private=True, max_bytes=2_000_000).page(site.url("/big"))
    assert reason(refused) == "the page is larger than 2 MB"


async def test_a_page_that_never_finishes_is_given_up_at_the_deadline(site: Site) -> None:
    site.routes["/stall"] = Route(PAGE, stall=5)
    started = time.monotonic()
    with pytest.raises(FetchError) as refused:
        await Fetcher(allow_private=True, timeout=0.5).page(site.url("/stall"))
    assert reason(refused) == "the page did not finish within 0.5 s"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("route", "refusal"),
    [
        (Route(b"\x89PNG....", "image/png"), "it is not an HTML page (image/png)"),
        (Route(b"{}", "application/json"), "it is not an HTML page (application/json)"),
        (Route(PAGE, status=500), "the server answered HTTP 500"),
    ],
)
async def test_what_is_not_an_html_page_is_refused(site: Site, route: Route, refusal: str) -> None:
    site.routes["/x"] = route
    with pytest.raises(FetchError) as refused:
        await Fetcher(allow_private=True).page(site.url("/x"))
    assert reason(refused) == refusal


async def test_a_missing_page_is_http_404(site: Site) -> None:
    with pytest.raises(FetchError) as refused:
        await Fetcher(allow_private=True).page(site.url("/gone"))
    assert reason(refused) == "the server answered HTTP 404"
