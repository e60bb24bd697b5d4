"""Retrieval engine: a corpus folder in, ranked paragraphs out. Plain, synchronous, no Telegram."""

from index.documents import Corpus, CorpusError, Document, Paragraph, load_corpus
from index.encoders import DEFAULT_MODEL, ModelError
from index.engine import BuildReport, Engine, EngineConfig, ReindexBusy, ReindexCancelled
from index.questions import (
    EmptyQuestion,
    QuestionError,
    QuestionProblem,
    QuestionTooLong,
    check_question,
    normalize_question,
)
from index.search import OUTCOMES, Answer, Outcome, Passage
from index.store import IndexFileError

__all__ = [
    "DEFAULT_MODEL",
    "OUTCOMES",
    "Answer",
    "BuildReport",
    "Corpus",
    "CorpusError",
    "Document",
    "EmptyQuestion",
    "Engine",
    "EngineConfig",
    "IndexFileError",
    "ModelError",
    "Outcome",
    "Paragraph",
    "Passage",
    "QuestionError",
    "QuestionProblem",
    "QuestionTooLong",
    "ReindexBusy",
    "ReindexCancelled",
    "check_question",
    "load_corpus",
    "normalize_question",
]
