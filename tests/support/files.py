"""File-system faults for tests that hold for any user, root included."""

from __future__ import annotations

import os
import resource
import signal
from pathlib import Path


def make_unreadable(path: Path) -> None:
    """A corpus file that exists and cannot be read: mode 000, or, for root (who reads any mode),
    a link to /proc/self/mem, which no process can read at offset 0 (EIO)."""
    if os.geteuid() == 0:
        path.symlink_to("/proc/self/mem")
    else:
        path.write_text("Geheim.", "utf-8")
        path.chmod(0)


def no_file_writes() -> None:
    """``preexec_fn`` for a child process: writing any byte to a file fails with EFBIG, for root
    too, as on a read-only or full disk (SIGXFSZ ignored so the write returns the error)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
