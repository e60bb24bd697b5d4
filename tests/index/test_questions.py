"""The one question check: a normalised question, or an error whose reason and numbers an edge can word."""

from __future__ import annotations

import pytest

from index import QuestionError, check_question, normalize_question


def test_a_question_comes_back_with_its_whitespace_normalised() -> None:
    assert check_question("  Wie is \n Maria\tLvova-Belova? ", 100) == "Wie is Maria Lvova-Belova?"
    assert normalize_question(" a  b ") == "a b"


@pytest.mark.parametrize(("question", "length"), [("", 0), ("  \n", 0), ("🙂 ?!", 4), ("\u200b", 1)])
def test_an_empty_question_says_so_with_its_length_and_the_limit(question: str, length: int) -> None:
    with pytest.raises(QuestionError) as caught:
        check_question(question, 50)
    error = caught.value
    assert (error.reason, error.length, error.limit) == ("empty", length, 50)
    assert str(error).startswith("the question is empty")


def test_a_long_question_says_how_long_and_the_limit() -> None:
    with pytest.raises(QuestionError) as caught:
        check_question("a " * 30, 50)
    error = caught.value
    assert (error.reason, error.length, error.limit) == ("too_long", 59, 50)
    assert str(error) == "the question is too long (59 characters; the limit is 50)"


def test_a_question_at_the_limit_is_fine() -> None:
    assert check_question("a" * 50, 50) == "a" * 50


def test_an_undecodable_byte_is_refused_before_it_reaches_an_encoder() -> None:
    with pytest.raises(QuestionError) as refused:
        check_question("caf\udce9 Poetin?", 50)  # surrogateescape's stand-in for a lone Latin-1 byte 0xe9
    assert refused.value.reason == "undecodable"
    assert str(refused.value) == "the question is not valid UTF-8 text (an undecodable byte at character 4)"
