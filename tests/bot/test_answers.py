"""From a question to reply pages with the real engine, and the memory behind "more" buttons."""

from __future__ import annotations

from bot.chat.answers import MAX_PASSAGES, compose
from bot.chat.buttons import more_data, parse_more
from index import Engine
from tests.bot.conftest import ANSWER_SENTENCE, HEDGE, OFF_TOPIC, QUESTION
from tests.conftest import ARTICLE_SOURCE
from tests.support.telegram_html import read_html


def test_pages_walk_down_the_ranking_without_repeating(article_engine: Engine) -> None:
    first = compose(article_engine, QUESTION, lang="nl", per_page=3)
    assert first.answered and first.next_offset == 3
    assert f"<b>{ANSWER_SENTENCE}</b>" in first.messages[0]
    seen: list[str] = []
    reply, offset = first, 0
    while True:
        for message in reply.messages:
            shown, _ = read_html(message)
            seen += [line for line in shown.splitlines() if " · alinea " in line]
        if reply.next_offset is None:
            break
        offset = reply.next_offset
        reply = compose(article_engine, QUESTION, lang="nl", per_page=3, offset=offset)
    assert seen[0] == f"{ARTICLE_SOURCE} · alinea 7"
    assert len(seen) == len(set(seen)) == len(article_engine.ask(QUESTION, MAX_PASSAGES).passages)


def test_past_the_last_page_there_is_nothing_more(article_engine: Engine) -> None:
    reply = compose(article_engine, QUESTION, lang="en", per_page=3, offset=25)
    assert reply.answered and reply.next_offset is None
    assert reply.messages == ["There are no more passages for this question."]


def test_an_uncovered_question_is_not_answered_with_a_random_paragraph(article_engine: Engine) -> None:
    reply = compose(
        article_engine,
        "What is the weather in Paris tomorrow?",
        lang="en",
        per_page=3,
        examples=["Wat moet Armenië doen?"],
    )
    assert not reply.answered and reply.next_offset is None
    (message,) = reply.messages
    shown, bold = read_html(message)
    assert shown.startswith("The article does not say.") and "Wat moet Armenië doen?" in shown
    assert "paragraph" not in shown and bold == ""


def test_a_hedged_answer_says_so_once_before_its_passages(hedging_engine: Engine) -> None:
    first = compose(hedging_engine, QUESTION, lang="nl", per_page=3)
    assert first.outcome == "hedged" and first.answered and first.next_offset == 3
    shown, bold = read_html(first.messages[0])
    assert shown.startswith(f"{HEDGE['nl']}\n\n{ARTICLE_SOURCE} · alinea 7\n")
    assert bold.startswith(ANSWER_SENTENCE)
    second = compose(hedging_engine, QUESTION, lang="nl", per_page=3, offset=3)
    assert second.outcome == "hedged"
    assert read_html(second.messages[0])[0].startswith(f"{ARTICLE_SOURCE} · alinea ")  # not said again


def test_outcomes_of_a_clear_answer_and_an_off_topic_question(sure_engine: Engine, hedging_engine: Engine) -> None:
    sure = compose(sure_engine, QUESTION, lang="en", per_page=3)
    assert sure.outcome == "answered" and sure.answered
    assert read_html(sure.messages[0])[0].startswith(f"{ARTICLE_SOURCE} · paragraph 7\n")
    refused = compose(hedging_engine, OFF_TOPIC, lang="en", per_page=3)  # even with the bar out of reach
    assert refused.outcome == "refused" and not refused.answered and refused.next_offset is None
    assert read_html(refused.messages[0])[0].startswith("The article does not say.")


def test_only_well_formed_more_data_is_accepted() -> None:
    assert parse_more(more_data("abc_-9", 3)) == ("abc_-9", 3)
    for forged in (
        None,
        "",
        "more",
        "more:abc",
        "more:abc:0",
        f"more:abc:{MAX_PASSAGES}",
        "more:a/b:3",
        "more:abc:3:extra",
        "more:abc:-1",
        "more:" + "x" * 40 + ":3",
        "rm -rf /",
    ):
        assert parse_more(forged) is None, forged
