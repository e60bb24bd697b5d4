"""The engine: one object that answers questions and rebuilds what it knows, safe across threads."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.answertypes import expected_type, holds
from index.build import Prompts, write_build
from index.documents import SUFFIXES, Corpus, CorpusError, Document, corpus_fingerprint, load_corpus
from index.encoders import DEFAULT_MODEL, Encoder, open_encoder
from index.errors import EngineError
from index.questions import check_question
from index.search import Answer, Outcome, Passage, calibrated_bars, rank, without_unrelated
from index.store import IndexStore, IndexWriteError
from index.stored import IndexFileError, StoredIndex

logger = logging.getLogger(__name__)


class ReindexBusy(EngineError, RuntimeError):
    """A rebuild is already running in this process."""


class ReindexCancelled(EngineError, RuntimeError):
    """A rebuild stopped on request before it published anything (the process is stopping)."""


@dataclass(frozen=True)
class EngineConfig:
    """What the engine needs to know; built from the settings, or directly in tests."""

    corpus_dir: Path
    index_dir: Path
    model: str = DEFAULT_MODEL
    query_prompt: str = ""
    document_prompt: str = ""
    top_k: int = 3
    # The relevance bars (see ``index.search``); None takes the model's calibrated value.
    min_relevance: float | None = None
    answer_relevance: float | None = None
    max_question_chars: int = 1000
    refresh_seconds: float = 2.0
    cache_size: int = 1024

    def bars(self) -> tuple[float, float]:
        """``(min_relevance, answer_relevance)``: the configured values, else the model's calibrated ones."""
        refuse, hedge = calibrated_bars(self.model)
        refuse = refuse if self.min_relevance is None else self.min_relevance
        hedge = hedge if self.answer_relevance is None else self.answer_relevance
        return refuse, max(refuse, hedge)


@dataclass(frozen=True)
class BuildReport:
    """What a rebuild produced."""

    version: str
    documents: int
    paragraphs: int
    sentences: int
    seconds: float
    skipped: dict[str, str] = field(default_factory=dict)
    embedded: int = 0  # documents encoded: new or changed since the index it was built beside
    reused: int = 0  # documents whose vectors were taken over from that index unchanged


class Engine:
    """Answers questions from the current index; rebuilds and reloads it without stopping."""

    def __init__(self, config: EngineConfig, encoder: Encoder) -> None:
        self.config = config
        self.encoder = encoder
        self.store = IndexStore(config.index_dir)
        self._bars = config.bars()
        self._index: StoredIndex | None = None
        self._build_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str, int, bool], Answer] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._checked_at = 0.0
        self._refresh_problem: str | None = None  # logged once, not on every check

    @classmethod
    def open(cls, config: EngineConfig, *, build: bool = True, progress: bool = False) -> Engine:
        """Load the model and the index, rebuilding the index if it is missing, broken or stale.

        The default model loads without torch (see ``index.encoders``), in a thread beside the
        index files, which are read meanwhile.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="model-load") as pool:
            loading = pool.submit(cls.with_model, config)
            try:
                stored: StoredIndex | None = IndexStore(config.index_dir).load()
            except IndexFileError:
                stored = None  # load() below finds out again, and rebuilds
            engine = loading.result()
        engine.load(build=build, progress=progress, preloaded=stored)
        return engine

    @classmethod
    def with_model(cls, config: EngineConfig) -> Engine:
        """An engine with ``config``'s model loaded and no index loaded yet (see ``open_encoder``)."""
        encoder = open_encoder(config.model, query_prompt=config.query_prompt, document_prompt=config.document_prompt)
        return cls(config, encoder)

    @property
    def bars(self) -> tuple[float, float]:
        """``(min_relevance, answer_relevance)``, as this engine decides with them (``EngineConfig.bars``)."""
        return self._bars

    # -- the index ------------------------------------------------------------------

    @property
    def index(self) -> StoredIndex:
        if self._index is None:
            raise IndexFileError("no index is loaded")
        return self._index

    @property
    def ready(self) -> bool:
        return self._index is not None

    def stale_reason(self, index: StoredIndex, fingerprint: str | None = None) -> str | None:
        """Why ``index`` does not fit this engine's model (and the corpus of ``fingerprint``, when
        given: see ``corpus_fingerprint``), or None."""
        manifest = index.manifest
        if manifest.get("model") != self.config.model:
            return f"index was built with model {manifest.get('model')!r}, not {self.config.model!r}"
        if manifest.get("dimension") != self.encoder.dimension:
            return f"index has dimension {manifest.get('dimension')}, the model {self.encoder.dimension}"
        if fingerprint is not None and manifest.get("corpus_fingerprint") != fingerprint:
            return "the corpus has changed since the index was built"
        return None

    def load(self, *, build: bool = True, progress: bool = False, preloaded: StoredIndex | None = None) -> None:
        """Serve the current index (or ``preloaded``, read from it already); rebuild it when it
        is missing, unreadable or stale."""
        reason: str | None
        index: StoredIndex | None
        try:
            index = preloaded or self.store.load()
        except IndexFileError as exc:
            index, reason = None, str(exc)
        else:
            try:
                # The fingerprint alone, without splitting the texts: the corpus is read in full
                # only when the index must be rebuilt.
                fingerprint = corpus_fingerprint(self.config.corpus_dir) if build else None
                reason = self.stale_reason(index, fingerprint)
            except CorpusError as exc:
                reason = str(exc)
        if reason is None and index is not None:
            self._serve(index)
            return
        if not build:
            raise IndexFileError(f"{reason}; run `python -m bot reindex`")
        logger.warning("rebuilding the index: %s", reason)
        try:
            self.reindex(progress=progress, reuse=index)
        except (CorpusError, IndexWriteError) as exc:
            if index is None or self.stale_reason(index) is not None:
                raise
            # Nothing to build from, or nowhere to write it, but an index for this model
            # exists: keep answering from it.
            logger.warning("cannot rebuild (%s); serving index %s", exc, index.version)
            self._serve(index)

    def _serve(self, index: StoredIndex) -> None:
        self._index = index
        with self._cache_lock:
            self._cache.clear()
        logger.info(
            "serving index %s: %s documents, %s paragraphs",
            index.version,
            index.manifest.get("documents"),
            index.manifest.get("paragraphs"),
        )

    def refresh(self, *, force: bool = False) -> bool:
        """Pick up a version another process published; checked at most every ``refresh_seconds``."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.config.refresh_seconds:
            return False
        if not self._refresh_lock.acquire(blocking=False):
            return False  # another thread is loading it right now
        try:
            self._checked_at = now
            return self._switch_to_current()
        finally:
            self._refresh_lock.release()

    def _switch_to_current(self) -> bool:
        try:
            current = self.store.current()
        except IndexFileError as exc:
            self._refresh_failed(str(exc))
            return False
        if current is None or (self._index is not None and current == self._index.version):
            return False
        try:
            index = self.store.load(current)
        except IndexFileError as exc:
            self._refresh_failed(f"not switching to index {current}: {exc}")
            return False
        reason = self.stale_reason(index)
        if reason:
            self._refresh_failed(f"not switching to index {current}: {reason}")
            return False
        self._refresh_problem = None
        self._serve(index)
        return True

    def _refresh_failed(self, problem: str) -> None:
        """Log why the published index cannot be served, once until the reason changes."""
        if problem != self._refresh_problem:
            logger.error("%s", problem)
        self._refresh_problem = problem

    def reindex(
        self,
        *,
        progress: bool = False,
        corpus: Corpus | None = None,
        cancelled: Callable[[], bool] | None = None,
        reuse: StoredIndex | None = None,
    ) -> BuildReport:
        """Rebuild from the corpus folder (or ``corpus``, read from it already) and swap the new
        index in; the old one serves until then.

        Only new and changed documents are encoded: the others' vectors come from ``reuse``
        (default: the index being served, else the one published in ``INDEX_DIR``) when it was
        built for this model (see ``index.reuse``).

        Raises ReindexBusy when a rebuild is already running, CorpusError when the corpus has
        nothing to index (the old index keeps serving), ReindexCancelled when ``cancelled``
        turns true before the new index is published (checked between batches of embedding, so
        a stopping process need not wait for the whole build).
        """

        def check() -> None:
            if cancelled is not None and cancelled():
                raise ReindexCancelled("the process is shutting down")

        if not self._build_lock.acquire(blocking=False):
            raise ReindexBusy("a rebuild is already running")
        try:
            started = time.perf_counter()
            corpus = corpus or load_corpus(self.config.corpus_dir)
            self.store.check_writable()  # before minutes of embedding, not after
            if not corpus.documents:
                detail = "; ".join(f"{name}: {why}" for name, why in corpus.skipped.items())
                kinds = ", ".join(SUFFIXES)
                raise CorpusError(
                    f"the corpus has no readable documents in {self.config.corpus_dir} "
                    + (f"({detail})" if detail else f"(it takes {kinds} files)")
                )

            source = reuse or self._index or self._published()
            if source is not None and self.stale_reason(source) is not None:
                source = None

            def build(folder: Path) -> dict[str, Any]:
                manifest = self.build(corpus, folder, progress=progress, check=check, reuse=source)
                check()
                return manifest

            version = self.store.publish(build)
            index = self.store.load(version)
            self._serve(index)
            report = BuildReport(
                version=version,
                documents=len(corpus.documents),
                paragraphs=len(index.paragraphs),
                sentences=index.vectors.ntotal,
                seconds=time.perf_counter() - started,
                skipped=dict(corpus.skipped),
                embedded=int(index.manifest.get("embedded", 0)),
                reused=int(index.manifest.get("reused", 0)),
            )
        finally:
            self._build_lock.release()
        logger.info(
            "built index %s in %.1fs: %d documents embedded, %d reused",
            version,
            report.seconds,
            report.embedded,
            report.reused,
        )
        return report

    def _published(self) -> StoredIndex | None:
        """The current version in ``INDEX_DIR`` when it can be read (``python -m bot reindex``
        serves nothing itself), else None: a full build."""
        try:
            return self.store.load()
        except IndexFileError:
            return None

    def build(
        self,
        corpus: Corpus,
        folder: Path,
        *,
        progress: bool = False,
        check: Callable[[], None] | None = None,
        reuse: StoredIndex | None = None,
    ) -> dict[str, Any]:
        """Write the index of ``corpus`` into the new folder ``folder`` (see ``index.build``); its manifest.

        ``reuse`` (an index of this model, only read) gives the vectors of the documents it holds
        unchanged. ``check`` is called between batches of texts and may raise to stop the build.
        """
        config = self.config
        prompts = Prompts(query=config.query_prompt, document=config.document_prompt)
        return write_build(
            folder,
            corpus,
            self.encoder,
            model=config.model,
            prompts=prompts,
            reuse=reuse,
            progress=progress,
            check=check,
        )

    @property
    def reindexing(self) -> bool:
        return self._build_lock.locked()

    def sources(self) -> list[Document]:
        """The documents the served index knows."""
        return list(self.index.documents)

    # -- questions ------------------------------------------------------------------

    def check_question(self, question: str) -> str:
        """The question with its whitespace normalised; QuestionError when empty or too long (see
        ``check_question``)."""
        return check_question(question, self.config.max_question_chars)

    def _outcome(self, question: str, relevance: float, passages: list[Passage]) -> Outcome:
        """Refused below ``min_relevance``, hedged below ``answer_relevance``; hedged too when the
        question asks for a number or a time that the best paragraph does not hold
        (``index.answertypes``); else answered."""
        refuse, hedge = self._bars
        if relevance < refuse:
            return "refused"
        if relevance < hedge:
            return "hedged"
        kind = expected_type(question)
        if kind is not None and passages and not holds(passages[0].text, kind):
            return "hedged"
        return "answered"

    def ask(self, question: str, k: int | None = None, *, unrelated: bool = False) -> Answer:
        """The best passages for ``question``, or an unanswered Answer when the corpus does not cover it.

        A passage from another document than the first that would be refused on its own is left
        out (``without_unrelated``) unless ``unrelated``: then the ``k`` best, as ranked.
        """
        question = self.check_question(question)
        k = self.config.top_k if k is None else max(0, k)
        self.refresh()
        index = self.index
        key = (index.version, question, k, unrelated)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        query = self.encoder.queries([question])[0]
        passages, relevance = rank(index, query, question, k=k)
        outcome = self._outcome(question, relevance, passages)
        if outcome == "refused":
            shown: tuple[Passage, ...] = ()
        else:
            shown = tuple(passages if unrelated else without_unrelated(passages, self.bars[0]))
        answer = Answer(question=question, passages=shown, outcome=outcome, relevance=relevance)
        with self._cache_lock:
            self._cache[key] = answer
            while len(self._cache) > self.config.cache_size:
                self._cache.popitem(last=False)
        return answer
