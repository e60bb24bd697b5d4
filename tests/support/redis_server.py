"""Run Debian's redis-server on loopback for tests: a free port, a temporary folder, nothing saved."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.ports import free_port

REDIS_SERVER = shutil.which("redis-server") or (
    "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
)
SKIP_REASON = "redis-server not installed; `make test` installs it when run as root with apt-get"
PASSWORD = "redis-Pass_4f2a9c"  # the workers' logs must never show it


class RedisServer:
    """``with RedisServer(folder) as redis:`` serves on ``redis.url`` until the block ends; ``stop()``
    and ``start()`` in between take it down and bring it back on the same port, empty."""

    def __init__(self, folder: Path, *, password: str | None = PASSWORD) -> None:
        assert REDIS_SERVER is not None, SKIP_REASON
        self.folder = folder
        self.port = free_port()
        self.password = password
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        command = [
            str(REDIS_SERVER), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
            "--save", "", "--appendonly", "no", "--logfile", str(self.folder / "redis.log"), "--daemonize", "no",
        ]  # fmt: skip
        if self.password:
            command += ["--requirepass", self.password]
        self._process = servers.start(command, self.port, "redis-server", self.log)

    def stop(self) -> None:
        if self._process is not None:
            servers.stop(self._process)
            self._process = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def running_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The body of a ``redis_server`` fixture: a server on loopback, or the test skipped with the reason."""
    if REDIS_SERVER is None:
        pytest.skip(SKIP_REASON)
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server
