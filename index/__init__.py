"""Retrieval engine: a corpus folder in, ranked paragraphs out. Plain, synchronous, no Telegram."""

from index.documents import Corpus, CorpusError, Document, Paragraph, load_corpus
from index.encoders import DEFAULT_MODEL, ModelError
from index.engine import BuildReport, Engine, EngineConfig, ReindexBusy, ReindexCancelled
from index.errors import EngineError
from index.pages import PageError
from index.questions import (
    QuestionError,
    QuestionProblem,
    check_question,
    normalize_question,
)
from index.search import OUTCOMES, Answer, Outcome, Passage
from index.store import IndexWriteError
from index.stored import IndexFileError

__all__ = [
    "DEFAULT_MODEL",
    "OUTCOMES",
    "Answer",
    "BuildReport",
    "Corpus",
    "CorpusError",
    "Document",
    "Engine",
    "EngineConfig",
    "EngineError",
    "IndexFileError",
    "IndexWriteError",
    "ModelError",
    "Outcome",
    "PageError",
    "Paragraph",
    "Passage",
    "QuestionError",
    "QuestionProblem",
    "ReindexBusy",
    "ReindexCancelled",
    "check_question",
    "load_corpus",
    "normalize_question",
]
