"""The bot as a child process, for tests and benchmarks: its environment, its start, its readiness, its stop.

Every child runs ``python -m bot ARGS`` (or another module, or ``python -c CODE``) from the
checkout these files are in, in a folder of its own (no ``.env`` read), with an environment built
one way: this process's, without any of the bot's settings or the locale a developer's shell may
hold, plus the settings the caller gives. Its stderr, and its stdout unless the caller takes it,
go to a log file in that folder, read back with ``output()``: a pipe nobody reads could fill and
stall the child.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from bot.core.settings import Settings
from tests.support.botapi import TOKEN, BotApiStub
from tests.support.paths import PROJECT
from tests.support.ports import free_port

# Dropped from every child's environment: each of the bot's settings and the locale.
DROPPED = frozenset({name.upper() for name in Settings.model_fields} | {"LANG", "LC_ALL", "LC_MESSAGES"})
# What every child gets: the C locale (the console's English) and unbuffered output.
FIXED = {"LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
SECRET = "test-Secret_0123456789"  # the webhook secret of every webhook child
WEBHOOK_PATH = "/tg/6f1c9a0e2b"

Env = Mapping[str, str | None]
Arg = str | bytes


def environment(env: Env | None = None) -> dict[str, str]:
    """This process's environment less ``DROPPED``, plus ``FIXED``, the checkout first on
    ``PYTHONPATH``, and ``env`` (a value of None drops that variable)."""
    found = {key: value for key, value in os.environ.items() if key not in DROPPED}
    found.update(FIXED)
    found["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))
    for key, value in (env or {}).items():
        if value is None:
            found.pop(key, None)
        else:
            found[key] = value
    return found


def command(*args: Arg, module: str = "bot", code: str | None = None) -> list[Arg]:
    """``python -m MODULE ARGS``, or ``python -c CODE ARGS``."""
    return [sys.executable, *(["-c", code] if code is not None else ["-m", module]), *args]


def run(
    *args: Arg,
    folder: Path,
    env: Env | None = None,
    stdin: str | bytes = b"",
    timeout: float = 300,
    preexec: Callable[[], None] | None = None,
    module: str = "bot",
    code: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` in ``folder`` to its end; its status and its output, decoded as UTF-8."""
    done = subprocess.run(
        command(*args, module=module, code=code),
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        cwd=folder,
        env=environment(env),
        timeout=timeout,
        preexec_fn=preexec,
    )
    out, err = (done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))
    return subprocess.CompletedProcess(done.args, done.returncode, out, err)


def answers(url: str) -> bool:
    """Whether a GET of ``url`` answers 200 now."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def until(
    check: Callable[[], bool],
    *,
    gone: Callable[[], str | None],
    what: str,
    timeout: float,
    log: Callable[[], str] = str,
) -> None:
    """Call ``check`` until it is true; RuntimeError when ``gone`` says why it never will be (the
    server exited), or after ``timeout`` seconds, with the end of ``log``."""
    deadline = time.monotonic() + timeout
    while True:
        if (why := gone()) is not None:
            raise RuntimeError(f"{what} {why}:\n{log()[-3000:]}")
        if check():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready within {timeout:g} s:\n{log()[-3000:]}")
        time.sleep(0.02)  # fine enough for the cold-start benchmark, which times this wait


@dataclass
class Child:
    """One child process, its log and, for a server, its port (0 for none)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    _stdout: bytes = field(default=b"", repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """What the child wrote to its log so far."""
        return self.log.read_text("utf-8", errors="replace")

    def _exited(self) -> str | None:
        return None if self.process.poll() is None else f"exited with {self.process.returncode}"

    def _printed(self, line: str) -> bool:
        """Whether ``line`` is a whole line of the child's stdout (a pipe) read so far; reads what is there."""
        assert self.process.stdout is not None, "start the child with stdout=subprocess.PIPE to wait for a line"
        readable, _, _ = select.select([self.process.stdout], [], [], 0.05)
        if readable:
            self._stdout += os.read(self.process.stdout.fileno(), 65536)
        return line in self._stdout.decode("utf-8", "replace").splitlines()

    def wait_ready(
        self, check: Callable[[], bool] | None = None, *, line: str | None = None, timeout: float = 120
    ) -> None:
        """Return once ``check`` is true, or ``line`` was printed on stdout, or (neither given)
        ``/readyz`` answers 200; RuntimeError with the child's log when it exits first or times out."""
        ready = partial(self._printed, line) if line is not None else check or partial(answers, f"{self.url}/readyz")
        until(ready, gone=self._exited, what=self.name, timeout=timeout, log=self.output)

    def stop(self, sig: int | None = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` (None: it ends by itself) and wait; its exit status. Past ``timeout``
        seconds it is killed, and RuntimeError holds its log."""
        if sig is not None and self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise RuntimeError(f"{self.name} did not stop within {timeout:g} s:\n{self.output()[-3000:]}") from None

    def __enter__(self) -> Child:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.process.poll() is None:
            self.stop()


def start(
    *args: Arg,
    folder: Path,
    env: Env | None = None,
    name: str = "bot",
    stdin: int | IO[Any] | None = subprocess.DEVNULL,
    stdout: int | IO[Any] | None = None,
    preexec: Callable[[], None] | None = None,
    port: int = 0,
    module: str = "bot",
    code: str | None = None,
) -> Child:
    """Start ``python -m bot ARGS`` in ``folder`` without waiting for it; its stderr, and its stdout
    unless ``stdout`` is given, go to ``folder/NAME.log``. ``preexec`` runs in the child first."""
    log = folder / f"{name}.log"
    with log.open("wb") as written:  # the child keeps its own descriptor
        process = subprocess.Popen(
            command(*args, module=module, code=code),
            cwd=folder,
            env=environment(env),
            stdin=stdin,
            stdout=written if stdout is None else stdout,
            stderr=written,
            preexec_fn=preexec,
        )
    return Child(name, process, log, port)


def talking_to(api: BotApiStub, corpus: Path, index: Path) -> dict[str, str | None]:
    """The settings of a bot with ``api`` as its Bot API, over ``corpus`` and ``index``."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "TELEGRAM_API_FILE_URL": api.file_url,
        "CORPUS_DIR": str(corpus),
        "INDEX_DIR": str(index),
    }


def serve_bot(
    api: BotApiStub,
    folder: Path,
    *,
    corpus: Path,
    index: Path,
    webhook: bool = True,
    env: Env | None = None,
    name: str = "bot",
    preexec: Callable[[], None] | None = None,
) -> Child:
    """Start ``python -m bot serve`` with ``api`` as its Bot API over ``corpus`` and ``index``, with
    ``env`` over those settings, not waiting for it: as a webhook on a free loopback port (ready once
    /readyz answers 200), or long-polling (ready once ``api`` has a ``getUpdates``)."""
    port = free_port() if webhook else 0
    settings = talking_to(api, corpus, index)
    if webhook:
        settings |= {
            "WEBHOOK_URL": f"https://bot.example.test{WEBHOOK_PATH}",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
    settings |= env or {}
    return start("serve", folder=folder, env=settings, name=name, preexec=preexec, port=port)
