"""Real servers the tests start on loopback (nginx, redis-server): waiting for them and stopping them."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable


def start(command: list[str], port: int, name: str, log: Callable[[], str]) -> subprocess.Popen[bytes]:
    """Run ``command`` and return once it accepts connections on 127.0.0.1:``port``; RuntimeError
    with its log when it exits first or is not listening within 15 s (it is stopped then)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start:\n{log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if time.monotonic() > deadline:
                stop(process)
                raise RuntimeError(f"{name} did not listen on {port}:\n{log()}") from None
            time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
