"""The bot as a separate process: its environment, its start, its readiness, its wall time and its memory.

The cold-start and bot benchmarks measure ``python -m bot`` as production runs it, in a process
of its own; the build benchmark reads its own memory the same way. Memory comes from
``/proc/PID/status`` (Linux): ``VmRSS`` now, ``VmHWM`` at the peak.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.common import ARTICLE, PROJECT

QUESTION = "Wat is er met Nagorno-Karabach gebeurd?"
WEBHOOK_SECRET = "bench-secret"


@dataclass(frozen=True)
class Memory:
    """A process's resident memory now and at its peak, in MB."""

    rss_mb: float
    peak_mb: float


def memory(pid: int | None = None) -> Memory:
    """The memory of process ``pid`` (default: this one); ProcessLookupError once it has exited."""
    try:
        status = Path(f"/proc/{pid or 'self'}/status").read_text()
    except OSError as exc:
        raise ProcessLookupError(pid) from exc
    kb: dict[str, int] = {}
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            kb[key] = int(value.split()[0])
    if len(kb) < 2:  # a zombie: exited, not yet reaped
        raise ProcessLookupError(pid)
    return Memory(kb["VmRSS"] / 1024, kb["VmHWM"] / 1024)


def pss(pid: int) -> dict[str, float]:
    """Process ``pid``'s proportional set size and its parts, in MB, from ``/proc/PID/smaps_rollup``.

    PSS divides each shared page among the processes mapping it, so the PSS of several workers
    adds up to the memory they take together. ``anon_mb`` is the process's own heap (Python
    objects, a model's weights read into memory); ``file_mb`` its share of mapped files.
    """
    kb: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            kb[key] = int(value.split()[0])
    return {
        "pss_mb": kb["Pss"] / 1024,
        "anon_mb": kb.get("Pss_Anon", 0) / 1024,
        "file_mb": kb.get("Pss_File", 0) / 1024,
        "rss_mb": kb["Rss"] / 1024,
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def article_corpus(root: Path) -> Path:
    """A corpus folder under ``root`` holding a copy of the article."""
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
    return corpus


def bot_env(index_dir: Path, corpus_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without its Telegram and webhook settings, plus the bot's folders and ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update({"INDEX_DIR": str(index_dir), "CORPUS_DIR": str(corpus_dir), "LOG_LEVEL": "WARNING"}, **extra)
    return env


def wall(args: list[str], env: dict[str, str] | None = None, *, expect: bytes = b"") -> tuple[float, float]:
    """Seconds from spawn to exit, and the child's peak RSS in MB (sampled every 5 ms until it exits).

    Raises RuntimeError when the command fails or its output lacks ``expect``. Not ``ru_maxrss``:
    for a child of a large process that counts the parent's pages from before exec.
    """
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=PROJECT, env=env, stdout=stdout, stderr=stderr)
        peak = 0.0
        while process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                sample = memory(process.pid).peak_mb
                if process.poll() is None:
                    peak = max(peak, sample)
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {err.decode()[-2000:]}")
    if expect not in out:
        raise RuntimeError(f"{' '.join(args)} did not print {expect!r}: {out[:500]!r}")
    return seconds, peak


def ask(index_dir: Path, corpus_dir: Path) -> tuple[float, float]:
    """``python -m bot ask --json QUESTION`` timed by ``wall``; the run builds the index when there is none."""
    command = [sys.executable, "-m", "bot", "ask", "--json", QUESTION]
    return wall(command, bot_env(index_dir, corpus_dir), expect=b'"answered": true')


def wait_ready(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    """Poll ``url`` until it answers 200; RuntimeError if ``process`` exits or ``deadline`` (perf_counter) passes."""
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the server exited with {process.returncode}: {err[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{url} was not ready in time")


@contextlib.contextmanager
def webhook_server(
    index: Path, corpus: Path, api_base_url: str, token: str
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``python -m bot serve`` in webhook mode on a free loopback port, against the Bot API at ``api_base_url``."""
    port = free_port()
    env = bot_env(
        index,
        corpus,
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_BASE_URL=api_base_url,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        WEBHOOK_URL="https://example.test/hook",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield process, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
