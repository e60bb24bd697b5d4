"""The stored index: a versioned directory of index folders, published by an atomic pointer swap.

Layout of ``INDEX_DIR``::

    CURRENT                 name of the version being served (replaced atomically)
    v-<time>-<id>/          one complete index (its files: ``index.stored``)

A build writes a hidden directory, renames it to its version name and only then replaces
``CURRENT``: a reader sees the old index or the new one, never half of one, and a build that
fails leaves the old index serving. Several processes may share one ``INDEX_DIR``. A build
copies the vectors of unchanged documents from the version being served (``index.reuse``),
which it only reads: its files stay mapped while it copies, even if another process prunes it.

While it is written, the hidden ``.building-*`` directory holds ``.owner``, a file its process
keeps locked (``flock``). A build that fails or is interrupted removes its directory; one whose
process was killed is removed by the next build in any process, as soon as its ``.owner`` can
be locked (the kernel drops the lock with the process), or after an hour when it has none.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from index.stored import Build, IndexFileError, StoredIndex, read_index, write_index

logger = logging.getLogger(__name__)

POINTER = "CURRENT"
OWNER = ".owner"  # in a ``.building-*`` directory: locked by the process writing it
STALE_BUILD_SECONDS = 3600  # a ``.building-*`` without a lockable owner file is left this long


class IndexWriteError(IndexFileError):
    """A new index could not be written into ``INDEX_DIR`` (not writable, full, not a folder)."""


class IndexStore:
    """The versions in one ``INDEX_DIR`` and the pointer to the one being served."""

    def __init__(self, root: Path, keep: int = 3) -> None:
        self.root = root
        self.keep = keep

    def current(self) -> str | None:
        """The version ``CURRENT`` names, or None when nothing was published yet.

        IndexFileError when ``CURRENT`` (or ``INDEX_DIR`` itself) cannot be read as a version name.
        """
        pointer = self.root / POINTER
        try:
            name = pointer.read_bytes().decode("utf-8").strip()
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise IndexFileError(f"{pointer} is not a version name (not UTF-8 text)") from None
        except OSError as exc:
            raise IndexFileError(f"cannot read {pointer}: {exc.strerror or exc}") from None
        return name or None

    def load(self, version: str | None = None) -> StoredIndex:
        """Load ``version`` (default: the current one)."""
        version = version or self.current()
        if version is None:
            raise IndexFileError(f"no index has been built in {self.root}")
        folder = self.root / version
        if not folder.is_dir():
            raise IndexFileError(f"index version {version} is missing from {self.root}")
        return read_index(folder)

    def publish(self, build: Build) -> str:
        """Write a new version with ``build`` and make it current, atomically.

        IndexWriteError when ``INDEX_DIR`` cannot take it; whatever was served before stays.
        """
        self.check_writable()
        try:
            return self._publish(build)
        except OSError as exc:
            raise self._write_error(exc) from None

    def check_writable(self) -> None:
        """IndexWriteError unless a file can be written in ``INDEX_DIR``: checked before a long build."""
        if self.root.exists() and not self.root.is_dir():
            raise IndexWriteError(f"cannot write the index: {self.root} is not a folder")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-") as probe:
                probe.write(b"probe\n")
                probe.flush()
        except OSError as exc:
            raise self._write_error(exc) from None

    def _write_error(self, exc: OSError) -> IndexWriteError:
        path = exc.filename2 or exc.filename
        where = f" ({path})" if path else ""
        return IndexWriteError(f"cannot write the index in {self.root}: {exc.strerror or exc}{where}")

    def _publish(self, build: Build) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        # Microseconds in the name keep versions in publish order when sorted by name, which
        # ``prune`` relies on: several builds a second are common for small corpora.
        now = time.time()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1e6) % 1_000_000:06d}"
        version = f"v-{stamp}-{uuid.uuid4().hex[:8]}"
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=self.root))
        try:
            with _owned(staging):
                write_index(staging, build)
            staging.rename(self.root / version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        pointer = self.root / f".{POINTER}.{uuid.uuid4().hex}"
        pointer.write_text(version + "\n", "utf-8")
        os.replace(pointer, self.root / POINTER)
        self.prune()
        return version

    def prune(self) -> None:
        """Remove all but the newest ``keep`` versions and stale half-built directories."""
        try:
            current = self.current()
        except IndexFileError:
            return  # without a readable pointer nothing is known to be unused
        versions = sorted((p for p in self.root.glob("v-*") if p.is_dir()), key=lambda p: p.name)
        for old in versions[: -self.keep]:
            if old.name != current:
                shutil.rmtree(old, ignore_errors=True)
        long_ago = time.time() - STALE_BUILD_SECONDS
        for stale in self.root.glob(".building-*"):
            with contextlib.suppress(OSError):
                if _abandoned(stale) or stale.stat().st_mtime < long_ago:
                    shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def _owned(staging: Path) -> Iterator[None]:
    """Hold ``staging/.owner`` locked while the body writes there; the file is gone afterwards.

    The lock is taken before the file gets its name, so no other process ever finds an
    unlocked ``.owner`` of a live build.
    """
    claim = staging / f"{OWNER}.{os.getpid()}"
    with open(claim, "wb") as owner:
        fcntl.flock(owner, fcntl.LOCK_EX)
        claim.rename(staging / OWNER)
        try:
            yield
        finally:
            (staging / OWNER).unlink(missing_ok=True)


def _abandoned(staging: Path) -> bool:
    """Whether ``staging`` was left by a build whose process is gone: its ``.owner`` is unlocked."""
    try:
        owner = open(staging / OWNER, "rb")  # noqa: SIM115 - closed below, after the lock test
    except FileNotFoundError:
        return False
    with owner:
        try:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        # A build unlinks its .owner before it lets go of the lock: unlinked means it finished.
        return os.fstat(owner.fileno()).st_nlink > 0
