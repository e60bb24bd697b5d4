"""Follow-up questions: whether a message only makes sense after the previous one, and asking it so.

Readers in a chat do not repeat themselves: after a question about the Kremlin they type "en
waarom?", "van wie?" or "and the West?". ``needs_context`` decides from general Dutch and
English grammar alone (no knowledge of any article) whether a message leans on the one before:
an elliptic opening ("en ...", "and ...", "maar ...", "what about ..."), a bare question word
("waarom?", "how many?"), or a short message with a pronoun or a pronominal adverb ("hij",
"daar", "ervan", "that", "they", "there"). A message that is a full question of its own is
taken alone, so a new subject starts afresh.

``ask_in_context`` answers a follow-up by searching the previous question and the follow-up
together (the previous one says what "hij" or "daar" is) and the follow-up alone (what is asked
about it), and adding the two scores of each paragraph; the alternatives tried and their figures
are in ``bench/quality/dialogues.py``. A message taken
alone goes to ``Engine.ask`` unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.engine import Engine
from index.questions import QuestionError, normalize_question
from index.search import Answer, Passage, without_unrelated

# How many follow-ups in a row lean on one full question before the next message starts afresh.
MAX_FOLLOWUPS = 3
# A follow-up's own search counts this many times its meaning's (chosen on the dialogues' tune half).
ALONE_WEIGHT = 1.5
# How deep both searches of a follow-up are read before they are combined.
CANDIDATE_PASSAGES = 50
# A message of more words than this is a question of its own, whatever words it holds.
SHORT_WORDS = 8
# An elliptic opening ("en ...", "and ...") continues the chat up to this many words.
OPENER_WORDS = 15
# At most this many words, with a question word, is a bare question ("why not?", "how many?").
BARE_WORDS = 3

# Words that open an elliptic continuation: "en ...?", "and ...?", "maar ...?".
_OPENERS = frozenset({"en", "maar", "of", "ook", "dus", "and", "but", "or", "also", "so", "plus"})
# Two-word openings that ask about something new in the same frame: "what about X?", "hoe zit het met X?".
_OPENING_PAIRS = frozenset({("what", "about"), ("how", "about"), ("en", "verder"), ("and", "then")})
_QUESTION_WORDS = frozenset(
    {
        # Dutch
        "wat", "wie", "wiens", "waar", "wanneer", "waarom", "hoe", "hoeveel", "hoelang", "hoezo",
        "welk", "welke", "waarheen", "waarvandaan", "waartoe", "waarvoor", "waarmee", "waardoor",
        # English
        "what", "who", "whom", "whose", "where", "when", "why", "how", "which",
    }
)  # fmt: skip
# Pronouns, demonstratives and adverbs that point back at something said before. Dutch "het"
# and "de" (articles too often) and "zijn" (a verb too) are left out.
_ANAPHORS = frozenset(
    {
        # Dutch
        "hij", "zij", "ze", "hem", "haar", "hen", "hun", "die", "dat", "deze", "dit", "daar", "er",
        "diens", "zo'n", "zulke", "zulk", "dezelfde", "hetzelfde", "ditzelfde", "datzelfde",
        # English
        "he", "she", "it", "its", "they", "them", "their", "theirs", "his", "her", "hers", "him",
        "that", "this", "these", "those", "there", "such", "same",
    }
)  # fmt: skip
# Dutch pronominal adverbs ("daarvan", "ervan", "hierover") are the pronoun and a preposition in one word.
_PREPOSITIONS = (
    "aan", "achter", "bij", "binnen", "boven", "buiten", "door", "in", "langs", "mee", "na", "naast",
    "naartoe", "om", "onder", "op", "over", "tegen", "toe", "tussen", "uit", "van", "voor", "zonder",
)  # fmt: skip
# Words that point back only sometimes: Dutch "er" is also the expletive of "Zijn er ...?", and
# demonstratives are also determiners ("dat land"). Beside a name they do not make a follow-up.
_WEAK_ANAPHORS = frozenset({"er", "die", "dat", "deze", "dit", "it", "this", "that", "these", "those", "there"})
_PRONOMINAL = frozenset(f"{head}{p}" for head in ("daar", "er", "hier") for p in _PREPOSITIONS)
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*", re.UNICODE)


def words(question: str) -> list[str]:
    """The words of ``question``, lower-cased (an apostrophe inside a word keeps it whole: "zo'n")."""
    return [w.lower().replace("\u2019", "'") for w in _WORD.findall(question)]


def needs_context(question: str) -> bool:
    """Whether ``question`` only makes sense after the previous question (see the module docstring)."""
    found = words(question)
    if not found:
        return False
    if (found[0] in _OPENERS or tuple(found[:2]) in _OPENING_PAIRS) and len(found) <= OPENER_WORDS:
        return True
    if len(found) > SHORT_WORDS:
        return False
    if len(found) <= BARE_WORDS and any(w in _QUESTION_WORDS for w in found):
        return True
    pointing = {w for w in found if w in _ANAPHORS or w in _PRONOMINAL}
    if _names_a_subject(question):  # "Wat gebeurde er met Nagorno-Karabach?" says what it is about
        pointing -= _WEAK_ANAPHORS
    return bool(pointing)


def _names_a_subject(question: str) -> bool:
    """Whether a word after the first is capitalised: a name, so the message says what it is about."""
    return any(word[:1].isupper() for word in _WORD.findall(question)[1:])


@dataclass(frozen=True)
class Turn:
    """What a chat was just talking about: the question as typed, what it was taken to mean (the
    text searched), the paragraphs it was answered from ((file name, number), best first), how
    many follow-ups in a row led to it, and when (the memory's clock, in seconds)."""

    question: str
    meaning: str
    passages: tuple[tuple[str, int], ...] = ()
    followups: int = 0
    at: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "question": self.question,
            "meaning": self.meaning,
            "passages": [list(p) for p in self.passages],
            "followups": self.followups,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Turn:
        """The turn ``to_json`` wrote; ValueError (or TypeError, KeyError) for anything else."""
        passages = data.get("passages", [])
        if not isinstance(passages, list):
            raise ValueError("passages must be a list")
        at, followups = data.get("at", 0.0), data.get("followups", 0)
        if not isinstance(at, int | float) or not isinstance(followups, int):
            raise ValueError("at and followups must be numbers")
        return cls(
            question=str(data["question"]),
            meaning=str(data["meaning"]),
            passages=tuple((str(source), int(number)) for source, number in passages),
            followups=followups,
            at=float(at),
        )


@dataclass(frozen=True)
class Understood:
    """How a message was taken: ``meaning`` is what is searched; ``context`` the previous turn it
    leans on (None: taken alone, as ``Engine.ask`` takes it)."""

    question: str
    meaning: str
    context: Turn | None = None

    @property
    def uses_context(self) -> bool:
        return self.context is not None

    @property
    def shown_as(self) -> str:
        """What the reader is told it was taken to mean: the previous question, then the follow-up."""
        if self.context is None:
            return self.question
        return f"{self.context.meaning.rstrip(' ?')} — {self.question}"


def understand(question: str, previous: Turn | None) -> Understood:
    """``question`` alone, or leaning on ``previous`` when it needs context and ``previous`` has
    not run out of follow-ups.

    The meaning of a follow-up is the previous turn's meaning and the follow-up, so a second
    follow-up still knows the subject of the full question it follows.
    """
    question = normalize_question(question)
    if previous is None or previous.followups >= MAX_FOLLOWUPS or not needs_context(question):
        return Understood(question, question)
    return Understood(question, f"{previous.meaning} {question}", previous)


def ask_in_context(engine: Engine, question: str, previous: Turn | None, k: int | None = None) -> tuple[Answer, Turn]:
    """The answer to ``question`` in the context of ``previous`` (None: a chat's first message),
    and the turn to remember for the next message (its ``at`` left for the memory to set).

    A message taken alone is exactly ``engine.ask(question, k)``. A follow-up is searched twice,
    as its meaning (the previous question and the follow-up, which names the subject) and alone
    (which says what is asked about it); each paragraph's two fused scores are added, the
    follow-up's ``ALONE_WEIGHT`` times. Whether the corpus answers it at all is the meaning's
    verdict. Raises QuestionError.
    """
    understood = understand(question, previous)
    if understood.context is None:
        answer = engine.ask(understood.question, k)
        return answer, remembered(understood, answer)
    try:
        together = engine.ask(understood.meaning, CANDIDATE_PASSAGES, unrelated=True)
    except QuestionError:  # the meaning is past the length limit: the follow-up alone
        understood = Understood(understood.question, understood.question)
        answer = engine.ask(understood.question, k)
        return answer, remembered(understood, answer)
    alone = engine.ask(understood.question, CANDIDATE_PASSAGES, unrelated=True)
    wanted = engine.config.top_k if k is None else max(0, k)
    combined = without_unrelated(_combined(together.passages, alone.passages), engine.bars[0])
    passages = combined[:wanted] if together.answered else ()
    answer = Answer(understood.meaning, tuple(passages), together.outcome, together.relevance)
    return answer, remembered(understood, answer)


def _combined(together: Sequence[Passage], alone: Sequence[Passage]) -> list[Passage]:
    """``together``'s passages ordered by their score plus ``ALONE_WEIGHT`` times their score in
    ``alone`` (the lowest there when a passage is missing from it)."""
    floor = min((p.score for p in alone), default=0.0)
    scores = {(p.source, p.paragraph): p.score for p in alone}
    total = [(p.score + ALONE_WEIGHT * scores.get((p.source, p.paragraph), floor), p) for p in together]
    return [p for _, p in sorted(total, key=lambda pair: -pair[0])]


def remembered(understood: Understood, answer: Answer) -> Turn:
    """The turn that ``understood``, answered by ``answer``, leaves for the next message."""
    followups = understood.context.followups + 1 if understood.context is not None else 0
    passages = tuple((p.source, p.paragraph) for p in answer.passages)
    return Turn(understood.question, understood.meaning, passages, followups)
