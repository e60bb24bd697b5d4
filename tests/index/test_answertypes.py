"""The expected answer type of a question, and whether a text holds it."""

from __future__ import annotations

import pytest

from index.answertypes import expected_type, holds


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Hoeveel inwoners heeft de stad?", "number"),
        ("hoe veel mensen kwamen er?", "number"),
        ("How many people fled?", "number"),
        ("And how much did it cost?", "number"),
        ("Wanneer werd het verdrag getekend?", "time"),
        ("Sinds wanneer is hij premier?", "time"),
        ("So when did the war start?", "time"),
        ("In welk jaar viel de muur?", "time"),
        ("On which day did the attack begin?", "time"),
        ("What date was the vote?", "time"),
        ("What happened when the road was closed?", None),
        ("Hoe heet de president?", None),
        ("How long did the blockade last?", None),
        ("Who said the ICC move was hostile?", None),
    ],
)
def test_only_the_questions_first_words_decide_its_type(question: str, kind: str | None) -> None:
    assert expected_type(question) == kind


@pytest.mark.parametrize(
    ("text", "number", "time"),
    [
        ("Er vielen 34 doden.", True, False),
        ("Het duurde negen maanden.", True, False),  # a duration answers "how long", not "when"
        ("Tweeëntwintig landen stemden voor.", True, False),
        ("Tientallen mensen sloegen op de vlucht.", True, False),
        ("Twenty-one states voted in favour.", True, False),
        ("In maart kwam het bevel.", False, True),
        ("It was signed in May.", False, True),
        ("You may go now.", False, False),  # "may" and "march" are verbs too
        ("Vorige week sprak hij de Kamer toe.", False, True),
        ("Drie jaar geleden begon de oorlog.", True, True),
        ("The treaty dates from 1998.", True, True),
        ("In de negentiende eeuw was het een provincie.", False, True),  # an ordinal is no count
        ("De macht van Moskou neemt af, zegt een woordvoerder.", False, False),  # "een" is the article
        ("One of them spoke, the others did not.", False, False),
    ],
)
def test_a_text_holds_a_number_or_a_time_by_its_words_or_digits(text: str, number: bool, time: bool) -> None:
    assert holds(text, "number") is number
    assert holds(text, "time") is time
