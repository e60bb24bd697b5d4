"""What the benchmarks measure of a process: its wall time and its memory.

The cold-start and bot benchmarks measure ``python -m bot`` as production runs it, in a process
of its own started by ``tests.support.processes``; the build benchmark reads its own memory the
same way. Memory comes from ``/proc/PID/status`` (Linux): ``VmRSS`` now, ``VmHWM`` at the peak.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.processes import Env

QUESTION = "Wat is er met Nagorno-Karabach gebeurd?"


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


def wall(
    *args: str, folder: Path, env: Env | None = None, code: str | None = None, expect: str = ""
) -> tuple[float, float]:
    """Seconds from spawning ``python -m bot ARGS`` (or ``python -c CODE``) in ``folder`` to its exit,
    and the child's peak RSS in MB (sampled every 5 ms until it exits).

    Raises RuntimeError when the command fails or its output lacks ``expect``. Not ``ru_maxrss``:
    for a child of a large process that counts the parent's pages from before exec.
    """
    from tests.support.processes import start  # here: the build benchmark's memory() imports nothing more

    started = time.perf_counter()
    child = start(*args, folder=folder, env=env, code=code, name="timed")
    peak = 0.0
    while child.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            sample = memory(child.pid).peak_mb
            if child.process.poll() is None:
                peak = max(peak, sample)
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    what = code if code is not None else " ".join(args)
    if child.process.returncode != 0:
        raise RuntimeError(f"{what} failed: {child.output()[-2000:]}")
    if expect not in child.output():
        raise RuntimeError(f"{what} did not print {expect!r}: {child.output()[:500]!r}")
    return seconds, peak


def ask(index_dir: Path, corpus_dir: Path) -> tuple[float, float]:
    """``python -m bot ask --json QUESTION`` timed by ``wall``; the run builds the index when there is none."""
    env = {"INDEX_DIR": str(index_dir), "CORPUS_DIR": str(corpus_dir), "LOG_LEVEL": "WARNING"}
    return wall("ask", "--json", QUESTION, folder=corpus_dir.parent, env=env, expect='"answered": true')
