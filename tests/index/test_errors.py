"""The engine's errors share one base, so that the bot catches them as one, and keep the bases callers had."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import index
from index import (
    CorpusError,
    EngineError,
    IndexFileError,
    IndexWriteError,
    ModelError,
    PageError,
    QuestionError,
    ReindexBusy,
    ReindexCancelled,
    check_question,
)


@pytest.mark.parametrize(
    "error",
    [CorpusError, IndexFileError, IndexWriteError, ModelError, PageError, QuestionError, ReindexBusy, ReindexCancelled],
)
def test_each_engine_error_is_an_engine_error(error: type[Exception]) -> None:
    assert issubclass(error, EngineError)


def test_every_exception_an_index_module_defines_is_an_engine_error() -> None:
    defined = {
        f"{name}.{cls.__name__}": cls
        for _, name, _ in pkgutil.iter_modules(index.__path__, "index.")
        for cls in vars(importlib.import_module(name)).values()
        if inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__ == name
    }
    assert len(defined) >= 8
    assert "index.errors.EngineError" in defined
    assert sorted(name for name, cls in defined.items() if not issubclass(cls, EngineError)) == []


def test_the_errors_keep_the_bases_callers_catch_them_by() -> None:
    assert issubclass(QuestionError, ValueError) and issubclass(PageError, ValueError)
    assert issubclass(ReindexBusy, RuntimeError) and issubclass(ReindexCancelled, RuntimeError)
    assert issubclass(IndexWriteError, IndexFileError)


def test_a_refused_question_is_caught_as_an_engine_error() -> None:
    with pytest.raises(EngineError, match="letter or digit"):
        check_question("?!", 100)
