"""The stored index: a versioned directory with a manifest, published by an atomic pointer swap.

Layout of ``INDEX_DIR``::

    CURRENT                 name of the version being served (replaced atomically)
    v-<time>-<id>/          one complete index
        manifest.json       format, model, dimension, corpus fingerprint, counts, build time, the
                            background's digest and how many documents were embedded and reused
        documents.json, text.bin, *_text.npy, paragraph_info.npy, sentence_*.npy
                            documents, paragraphs and their sentence rows (``index.passages``)
        vectors.faiss       one unit vector per sentence
        sentences.npy       the same sentence vectors as float32 rows: what a later build reuses
                            (an approximate index keeps them inexactly or not at all)
        paragraphs.npy      one unit vector per whole paragraph, in paragraph order
        titled.npy          one unit vector per sentence read after its document's title
        hubness.npy         each paragraph vector's hubness (see ``index.search.hubness``)
        background.npy      vectors of the unrelated reference text (see ``index.search``)
        background_queries.npy  the same text embedded as questions: what ``hubness`` measures against
        lexical/            BM25 over the same sentences, each word's postings also best first

A loaded index maps its files rather than reading them (FAISS with ``IO_FLAG_MMAP``, numpy with
``mmap_mode="r"``, bm25s with ``mmap=True``, the texts through ``index.passages``): every worker
serving one version on a host shares its pages, and a process loads a million sentences in
well under a second.

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
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.arrays import mapped
from index.documents import Document, Paragraph
from index.errors import EngineError
from index.lexical import LexicalIndex
from index.passages import PASSAGE_FILES, StoredTexts
from index.vectors import read_vector_index

logger = logging.getLogger(__name__)

FORMAT_VERSION = 10  # 2: BM25 tokens without diacritics; 3: paragraph vectors; 4: long paragraphs cut;
# 5: titled sentence vectors; 6: texts in one mapped file instead of passages.json; 7: BM25 postings
# best first (lexical/impact.npy); 8: paragraph hubness (hubness.npy); 9: BM25 stems each document
# in its own language; 10: sentences.npy, background_queries.npy and a digest per document, so a
# build reuses the vectors of unchanged documents (``index.reuse``)
POINTER = "CURRENT"
OWNER = ".owner"  # in a ``.building-*`` directory: locked by the process writing it
STALE_BUILD_SECONDS = 3600  # a ``.building-*`` without a lockable owner file is left this long


INDEX_FILES = (
    "manifest.json",
    *PASSAGE_FILES,
    "vectors.faiss",
    "sentences.npy",
    "paragraphs.npy",
    "titled.npy",
    "hubness.npy",
    "background.npy",
    "background_queries.npy",
    "lexical",
)


class IndexFileError(EngineError):
    """An index on disk is missing, incomplete, corrupt or built for something else."""


class IndexWriteError(IndexFileError):
    """A new index could not be written into ``INDEX_DIR`` (not writable, full, not a folder)."""


@dataclass
class StoredIndex:
    """Everything a search needs, mapped from one version's folder."""

    manifest: dict[str, Any]
    documents: list[Document]
    paragraphs: Sequence[Paragraph]
    sentence_paragraph: np.ndarray  # row → index into ``paragraphs``
    sentence_offset: np.ndarray  # row → sentence number within its paragraph
    first_rows: np.ndarray  # paragraph i's sentence rows are first_rows[i]:first_rows[i + 1]
    vectors: faiss.Index
    paragraph_vectors: np.ndarray  # row → unit vector of ``paragraphs[row]`` as a whole
    titled_vectors: np.ndarray  # sentence row → unit vector of the sentence after its document's title
    paragraph_hubness: np.ndarray  # row → hubness of ``paragraph_vectors[row]`` (``index.search.hubness``)
    background: np.ndarray
    lexical: LexicalIndex
    version: str = ""
    # What a later build reuses (``index.reuse``), mapped: nothing is read unless a build asks.
    sentence_vectors: np.ndarray | None = None  # row → the float32 vector ``vectors`` was built from
    background_queries: np.ndarray | None = None  # the background text embedded as questions
    digests: tuple[str, ...] = ()  # document → ``index.reuse.document_digest`` ("" when unknown)

    @cached_property
    def documents_by_name(self) -> dict[str, Document]:
        return {document.name: document for document in self.documents}


# Writes every file but the manifest into a new, private folder and returns the manifest.
Build = Callable[[Path], dict[str, Any]]


def write_index(folder: Path, build: Build) -> None:
    """Write an index into ``folder`` (which must be new and private) with ``build``, the manifest last."""
    manifest = build(folder)
    # The manifest goes last: a directory without one was never finished.
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")


def read_index(folder: Path) -> StoredIndex:
    """Load the index in ``folder``, checking every file against the manifest.

    The format comes first: an index of an older format lacks files this one has.
    """
    if not (folder / "manifest.json").exists():
        raise IndexFileError(f"index file missing: manifest.json in {folder.name}")
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("the manifest is not a JSON object")
    except (OSError, ValueError) as exc:
        raise IndexFileError(f"index in {folder.name} is unreadable (manifest.json: {exc})") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexFileError(f"index format {manifest.get('format')!r} is not {FORMAT_VERSION}")
    for name in INDEX_FILES:
        if not (folder / name).exists():
            raise IndexFileError(f"index file missing: {name} in {folder.name}")
    try:
        texts = StoredTexts(folder)
        documents, paragraphs = texts.documents, texts.paragraphs
        owner, offset, first_rows = texts.sentence_paragraph, texts.sentence_offset, texts.first_rows
        vectors = read_vector_index(folder / "vectors.faiss")
        paragraph_vectors = mapped(folder / "paragraphs.npy")
        titled_vectors = mapped(folder / "titled.npy")
        paragraph_hubness = mapped(folder / "hubness.npy")
        background = np.load(folder / "background.npy", allow_pickle=False)
        background_queries = mapped(folder / "background_queries.npy")
        sentence_vectors = mapped(folder / "sentences.npy")
        lexical = LexicalIndex.load(folder / "lexical", len(owner))
    except IndexFileError:
        raise
    except FileNotFoundError as exc:
        raise IndexFileError(f"index file missing: {Path(exc.filename or '?').name}") from exc
    except Exception as exc:  # JSON, numpy and FAISS each have their own way of saying "corrupt"
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise IndexFileError(f"index in {folder.name} is unreadable ({detail[:200]})") from exc
    expected = (manifest.get("sentences"), manifest.get("dimension"))
    if (
        (vectors.ntotal, vectors.d) != expected
        or len(paragraphs) != manifest.get("paragraphs")
        or len(owner) != vectors.ntotal
    ):
        raise IndexFileError(f"index in {folder.name} does not match its manifest")
    if background.ndim != 2 or background.shape[1] != vectors.d:
        raise IndexFileError(f"background vectors in {folder.name} have the wrong shape")
    if paragraph_vectors.shape != (len(paragraphs), vectors.d):
        raise IndexFileError(f"paragraph vectors in {folder.name} have the wrong shape")
    if titled_vectors.shape != (vectors.ntotal, vectors.d):
        raise IndexFileError(f"titled sentence vectors in {folder.name} have the wrong shape")
    if paragraph_hubness.shape != (len(paragraphs),):
        raise IndexFileError(f"paragraph hubness in {folder.name} has the wrong shape")
    if sentence_vectors.shape != (vectors.ntotal, vectors.d) or sentence_vectors.dtype != np.float32:
        raise IndexFileError(f"sentence vectors in {folder.name} have the wrong shape")
    if background_queries.shape != background.shape:
        raise IndexFileError(f"background question vectors in {folder.name} have the wrong shape")
    return StoredIndex(
        manifest,
        documents,
        paragraphs,
        owner,
        offset,
        first_rows,
        vectors,
        paragraph_vectors,
        titled_vectors,
        paragraph_hubness,
        background,
        lexical,
        folder.name,
        sentence_vectors,
        background_queries,
        tuple(texts.digests),
    )


def new_manifest(
    *,
    model: str,
    dimension: int,
    fingerprint: str,
    documents: list[Document],
    sentences: int,
    background: str = "",
    embedded: int = 0,
    reused: int = 0,
) -> dict[str, Any]:
    """The manifest of a new index; ``background`` is its ``index.reuse.background_digest``,
    ``embedded`` and ``reused`` count the documents the build encoded and took over."""
    return {
        "format": FORMAT_VERSION,
        "model": model,
        "dimension": dimension,
        "corpus_fingerprint": fingerprint,
        "documents": len(documents),
        "paragraphs": sum(len(d.paragraphs) for d in documents),
        "sentences": sentences,
        "background_digest": background,
        "embedded": embedded,
        "reused": reused,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


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
