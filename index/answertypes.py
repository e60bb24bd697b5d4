"""What kind of answer a question asks for, and whether a text holds an answer of that kind.

Question answering systems have long checked a candidate passage against the question's
expected answer type: a "when" question wants a time, a "how many" question a number (Li and
Roth, "Learning Question Classifiers", COLING 2002; Moldovan et al., "The Structure and
Performance of an Open-Domain Question Answering System", ACL 2000). This module knows the two
types that a handful of closed-class words decide in Dutch and English, and whose presence in
a text is plain to see:

- ``"number"``: a question that starts with "how many", "how much", "hoeveel" (or "hoe veel"):
  the text must hold a number, in digits or as a number word ("negen", "twenty-one",
  "honderden"). "een" and "one" are left out: they are also the article and a pronoun.
- ``"time"``: a question that starts with "when", "wanneer", "since when", "sinds wanneer", "in
  which year", "in welk jaar", "on which day", "op welke dag" or "what date"/"welke datum":
  the text must hold a year, a month or weekday, a day word ("gisteren", "yesterday"), a
  century or decade, or a placed span of time ("last week", "drie jaar geleden"; "negen
  maanden" alone is a duration, which answers "how long", not "when").

Only a question's start decides its type: "what happened when Baku closed the road?" uses
"when" as a conjunction and asks for no time. Every other question has no expected type, and
any text holds an answer for it.

The engine uses this for one decision (``index.engine``): a question it would answer, whose
best passage holds nothing of the asked type, is hedged ("the article does not answer this
directly"), because the corpus talks about the subject without the number or the date asked for.
"""

from __future__ import annotations

import re
from typing import Literal

AnswerType = Literal["number", "time"]

_LEADING = r"^\W*(?:(?:and|but|so|okay|ok|en|maar|dus|oké)\W+)?"  # "So when ...", "En hoeveel ..."

_QUESTION_STARTS: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    ("number", re.compile(_LEADING + r"(?:how\s+(?:many|much)|hoe\s*veel)\b", re.IGNORECASE)),
    (
        "time",
        re.compile(
            _LEADING + r"(?:when|wanneer|since\s+when|sinds\s+wanneer|since\s+what\s+year"
            r"|(?:in\s+)?(?:which|what)\s+(?:year|month|decade|century)"
            r"|(?:in\s+)?welk(?:e)?\s+(?:jaar|maand|decennium|eeuw)"
            r"|(?:on\s+)?(?:which|what)\s+(?:day|date)|(?:op\s+)?welke\s+(?:dag|datum))\b",
            re.IGNORECASE,
        ),
    ),
)

_UNITS_NL = "twee|drie|vier|vijf|zes|zeven|acht|negen"
_UNITS_EN = "two|three|four|five|six|seven|eight|nine"
_NUMBER_WORDS = (
    # Dutch: één to negentien, the tens with their "eenentwintig"-style compounds, hundreds up
    # to milliarden, and the counts of a kind ("tientallen").
    rf"één|{_UNITS_NL}|tien|elf|twaalf|dertien|veertien|vijftien|zestien|zeventien|achttien|negentien"
    rf"|(?:(?:een|{_UNITS_NL})[eë]n)?(?:twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig)"
    rf"|(?:{_UNITS_NL}|tien)?(?:honderd|duizend)(?:en)?|miljoen(?:en)?|miljard(?:en)?"
    r"|tientallen|honderden|duizenden|tienduizenden|honderdduizenden"
    # English: two to nineteen, the tens with "twenty-one"-style compounds, and larger counts.
    rf"|{_UNITS_EN}|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    rf"|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|{_UNITS_EN}))?"
    r"|hundreds?|thousands?|millions?|billions?|trillions?|dozens?"
)
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)

# English month names only capitalised: "may" and "march" are also a verb.
_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    "|(?-i:January|February|March|April|May|June|July|August|September|October|November|December)"
)
_DAYS = (
    "maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag"
    "|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    "|gisteren|eergisteren|vandaag|morgen|overmorgen|vanavond|vanochtend|vanmorgen|vannacht"
    "|yesterday|today|tomorrow|tonight"
)
_SPANS = (
    "eeuw|eeuwen|century|centuries|decennium|decennia|decade|decades"
    "|jaar|jaren|year|years|maand|maanden|month|months|week|weken|weeks|dag|dagen|days"
)
_RELATIVE = (
    "vorig|vorige|afgelopen|volgend|volgende|komend|komende|dit|deze|eind|begin|half"
    r"|last|past|next|this|coming|early|late|mid|the\s+same"
)
# A span of time is a time when it is placed ("last week", "drie jaar geleden"); "negen
# maanden" alone is a duration, which answers "how long", not "when".
_TIME = re.compile(
    rf"\b(?:1\d{{3}}|20\d{{2}})\b|\b(?:{_MONTHS}|{_DAYS})\b"
    rf"|\b(?:{_RELATIVE})[\s-]+(?:{_SPANS})\b"
    rf"|\b(?:\d+|{_NUMBER_WORDS})[\s-]+(?:{_SPANS})\s+(?:geleden|ago|later|eerder|earlier)\b"
    r"|\b(?:eeuw|eeuwen|century|centuries|decennium|decennia)\b",
    re.IGNORECASE,
)

_HOLDS: dict[AnswerType, re.Pattern[str]] = {"number": _NUMBER, "time": _TIME}


def expected_type(question: str) -> AnswerType | None:
    """The kind of answer ``question`` asks for by its first words, or None."""
    for kind, start in _QUESTION_STARTS:
        if start.search(question):
            return kind
    return None


def holds(text: str, kind: AnswerType) -> bool:
    """Whether ``text`` holds an expression of ``kind`` (a number; a time)."""
    return _HOLDS[kind].search(text) is not None
