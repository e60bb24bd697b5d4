"""A small web server on 127.0.0.1 that serves news pages and feeds the way a newsroom's site would.

Each path answers with a ``Route``: a status, headers and body, or a stall (headers sent, the
body never finished). The server records what each request sent (the ETag a feed is asked
with, say), so tests check the client's side of the conversation too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What one path answers; ``stall`` sends the headers and a first byte, then nothing for that long."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0
    etag: str | None = None  # answered 304 when the request sends it back in If-None-Match


@dataclass
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]


class Site:
    """The routes and the requests seen, shared with the handler threads."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.down = False  # every path answers 503, as a site being deployed does

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            site.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = site.routes.get(self.path)
            if site.down:
                route = Route(b"down for maintenance", "text/plain", 503)
            if route is None:
                route = Route(b"not found", "text/plain", 404)
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.etag:
                self.send_header("ETag", route.etag)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.stall:
                self.send_header("Content-Length", str(len(route.body) + 1))
                self.end_headers()
                self.wfile.write(b"<")
                self.wfile.flush()
                time.sleep(route.stall)
                return
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest shows what the test asserts."""

    return Handler


class _QuietServer(ThreadingHTTPServer):
    block_on_close = False  # a stalled response does not hold up the next test

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (a cap or deadline reached) is what those tests want: not an error."""


@contextmanager
def serve() -> Iterator[Site]:
    """A site on a free loopback port, in a thread, for the duration of the block."""
    server = _QuietServer(("127.0.0.1", 0), _handler(Site(0)))
    site = Site(server.server_address[1])
    server.RequestHandlerClass = _handler(site)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="test-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
