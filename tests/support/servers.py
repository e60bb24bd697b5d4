"""Real servers the tests start on loopback (nginx, redis-server): waiting for them and stopping them."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable

from tests.support.processes import until


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port`` now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start(command: list[str], port: int, name: str, log: Callable[[], str]) -> subprocess.Popen[bytes]:
    """Run ``command`` and return once it accepts connections on 127.0.0.1:``port``; RuntimeError
    with its log when it exits first or is not listening within 15 s (it is stopped then)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def exited() -> str | None:
        return None if process.poll() is None else f"exited at start with {process.returncode}"

    try:
        until(lambda: listening(port), gone=exited, what=f"{name} on port {port}", timeout=15, log=log)
    except RuntimeError:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
