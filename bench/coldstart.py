"""Cold start: process start to the first answer (CLI) and to ``/readyz`` 200 (webhook server).

Each measurement is a new process over an index built beforehand (a warm-up run builds it
and warms the page cache), so what is timed is imports, model load and index load. Baselines
in the same run: the bare interpreter (``python -c pass``) and importing torch with
sentence-transformers, which is what answering cost before the default model skipped them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.common import ARTICLE, PROJECT, Row, Section, percentile, rss_mb

TARGET_SECONDS = 8.0
TARGET_RSS_MB = 800.0
QUESTION = "Wat is er met Nagorno-Karabach gebeurd?"


def _env(index_dir: Path, corpus_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update({"INDEX_DIR": str(index_dir), "CORPUS_DIR": str(corpus_dir), "LOG_LEVEL": "WARNING"}, **extra)
    return env


def _peak_mb(pid: int) -> float | None:
    """The peak RSS (VmHWM) of a running process; None once it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def _wall(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds from spawn to exit, and the child's peak RSS in MB (sampled every 5 ms until it exits).

    Not ``ru_maxrss``: for a child of a large process that counts the parent's pages from before exec.
    """
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=PROJECT, env=env, stdout=stdout, stderr=stderr)
        peak = 0.0
        while process.poll() is None:
            sample = _peak_mb(process.pid)
            if sample is not None and process.poll() is None:
                peak = max(peak, sample)
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {err.decode()[-2000:]}")
    if args[-1] == QUESTION and b'"answered": true' not in out:
        raise RuntimeError(f"the CLI did not answer: {out[:500]!r}")
    return seconds, peak


def cli(runs: int) -> Section:
    section = Section("coldstart-cli")
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
        env = _env(Path(tmp) / "index", corpus)
        command = [python, "-m", "bot", "ask", "--json", QUESTION]
        _wall(command, env)  # builds the index, warms the page cache
        interpreter, imports, answers, peaks = [], [], [], []
        for _ in range(runs):
            interpreter.append(_wall([python, "-c", "pass"])[0])
            imports.append(_wall([python, "-c", "import torch, sentence_transformers"])[0])
            seconds, peak = _wall(command, env)
            answers.append(seconds)
            peaks.append(peak)
    median = percentile(answers, 50)
    section.rows += [
        Row(
            "Cold start",
            "CLI: process start → first answer",
            "s",
            median,
            max(answers),
            "import torch + sentence-transformers",
            percentile(imports, 50),
            f"<= {TARGET_SECONDS:g} s",
            median <= TARGET_SECONDS,
            runs,
            f"peak RSS {max(peaks):.0f} MB; p99 column is the slowest run",
        ),
        Row("Cold start", "baseline: python -c pass", "s", percentile(interpreter, 50), max(interpreter), samples=runs),
        Row(
            "Cold start",
            "baseline: import torch + sentence-transformers",
            "s",
            percentile(imports, 50),
            max(imports),
            samples=runs,
        ),
    ]
    section.series = {"cli_s": answers, "interpreter_s": interpreter, "imports_s": imports}
    return section


def _wait_ready(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
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


WEBHOOK_SECRET = "bench-secret"


@contextlib.contextmanager
def webhook_server(index: Path, corpus: Path, api_base_url: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``python -m bot serve`` in webhook mode on a free loopback port, against ``api_base_url``."""
    from tests.support.botapi import TOKEN, _free_port

    port = _free_port()
    env = _env(
        index,
        corpus,
        TELEGRAM_BOT_TOKEN=TOKEN,
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


def server(runs: int) -> Section:
    """``python -m bot serve`` as a webhook against a stub Bot API: time to /readyz 200, idle RSS."""
    from tests.support.botapi import BotApiStub

    section = Section("coldstart-server")
    python = sys.executable
    readies, idle = [], []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp, BotApiStub() as api:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
        _wall([python, "-m", "bot", "ask", "--json", QUESTION], _env(Path(tmp) / "index", corpus))
        for _ in range(runs):
            started = time.perf_counter()
            with webhook_server(Path(tmp) / "index", corpus, api.base_url) as (process, port):
                _wait_ready(f"http://127.0.0.1:{port}/readyz", process, started + 120)
                readies.append(time.perf_counter() - started)
                time.sleep(1.0)
                idle.append(rss_mb(process.pid))
    median = percentile(readies, 50)
    rss = percentile(idle, 50)
    section.rows += [
        Row(
            "Cold start",
            "server: process start → /readyz 200",
            "s",
            median,
            max(readies),
            "",
            None,
            f"<= {TARGET_SECONDS:g} s",
            median <= TARGET_SECONDS,
            runs,
            "p99 column is the slowest run",
        ),
        Row(
            "Cold start",
            "server: idle RSS after ready",
            "MB",
            rss,
            max(idle),
            "",
            None,
            f"<= {TARGET_RSS_MB:g} MB",
            rss <= TARGET_RSS_MB,
            runs,
        ),
    ]
    section.series = {"ready_s": readies, "idle_rss_mb": idle}
    return section


def run(*, quick: bool = False, with_server: bool = True) -> Section:
    runs = 2 if quick else 5
    section = cli(runs)
    if with_server:
        try:
            other = server(runs)
        except Exception as exc:
            section.skipped = f"server cold start failed: {exc}"
        else:
            section.rows += other.rows
            section.series.update(other.series)
    return section


if __name__ == "__main__":
    print(json.dumps([row.to_json() for row in run(quick=True).rows], indent=2))
