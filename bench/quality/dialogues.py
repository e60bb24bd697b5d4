"""Dialogues: follow-up questions answered in the context of the chat, beside each turn asked alone.

Every dialogue of ``newsroom/dialogues.json`` runs through ``index.followups.ask_in_context``,
the same logic the bot and the console use, each turn in the context the previous turns left
(the engine's own answers, not the gold ones). The baseline asks every turn alone with
``Engine.ask``, in the same run. The set is split by the dialogue's position in the file, fixed
before any result was seen: even positions (0, 2, ...) are the tune half, odd ones the check
half. A turn is right when its first passage is one of its gold paragraphs.

How a follow-up is searched was chosen on the tune half alone (follow-ups right, 44 turns; each
turn alone 0.364): the previous meaning and the follow-up as one query 0.500, with the previous
question only 0.477, the follow-up written twice 0.545, preferring the previous answer's article
no better (0.500), every turn in context 0.477 (and new questions 0.300 instead of 0.700); the
two searches (together and alone) added with the follow-up's weighted 1, 1.5, 2, 3: 0.614,
0.636, 0.614, 0.568. ``index.followups`` takes 1.5. The check half was measured once, after.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bench.quality.data import HALVES, NEWSROOM, Half, half_of, load_json
from index import Answer, Engine, QuestionError
from index.followups import Turn, ask_in_context

DIALOGUES = NEWSROOM / "dialogues.json"
CONTEXT, ALONE = "in context", "each turn alone"
METHODS = (CONTEXT, ALONE)
TurnKind = Literal["first", "followup", "new"]
KINDS: tuple[TurnKind, ...] = ("followup", "new", "first")
KIND_NAMES = {
    "followup": "follow-ups right",
    "new": "new questions after an answer right",
    "first": "first turns right",
}
# A way to answer one turn: (engine, question, what the previous turn left) -> (answer, what this one leaves).
Answerer = Callable[[Engine, str, "Turn | None"], tuple[Answer, "Turn | None"]]


@dataclass(frozen=True)
class DialogueTurn:
    """One turn: the question, its kind and its gold paragraphs ((file name, number))."""

    text: str
    kind: TurnKind
    gold: frozenset[tuple[str, int]]


@dataclass(frozen=True)
class Dialogue:
    """A dialogue of the set: its id, its language, its turns, and its half, which its position in
    the file gives (see the module docstring)."""

    id: str
    lang: str
    half: Half
    turns: tuple[DialogueTurn, ...]


def load(path: Path = DIALOGUES) -> list[Dialogue]:
    """The dialogues, each with its half by its position in the file."""
    dialogues = load_json(path)["dialogues"]
    return [
        Dialogue(
            id=item["id"],
            lang=item["lang"],
            half=half_of(position),
            turns=tuple(
                DialogueTurn(turn["q"], turn["kind"], frozenset((turn["doc"], int(n)) for n in turn["paragraph"]))
                for turn in item["turns"]
            ),
        )
        for position, item in enumerate(dialogues)
    ]


@dataclass(frozen=True)
class TurnResult:
    """One turn as a method answered it: whether its first passage is gold, the outcome, and
    whether the turn was taken in the context of the one before."""

    dialogue: Dialogue
    turn: DialogueTurn
    method: str
    right: bool
    outcome: str
    used_context: bool = False


def in_context(engine: Engine, question: str, previous: Turn | None) -> tuple[Answer, Turn | None]:
    """The bot's way: ``ask_in_context``."""
    return ask_in_context(engine, question, previous)


def alone(engine: Engine, question: str, previous: Turn | None) -> tuple[Answer, Turn | None]:
    """The baseline: every turn as if it were the chat's first message."""
    return engine.ask(question), None


def run(engine: Engine, dialogues: Sequence[Dialogue], method: str, answer: Answerer) -> list[TurnResult]:
    """Every turn of every dialogue answered by ``answer``, each in the context the turns before left."""
    results = []
    for dialogue in dialogues:
        previous: Turn | None = None
        for turn in dialogue.turns:
            try:
                found, left = answer(engine, turn.text, previous)
            except QuestionError:
                results.append(TurnResult(dialogue, turn, method, False, "refused"))
                previous = None
                continue
            first = found.passages[0] if found.passages else None
            right = first is not None and (first.source, first.paragraph) in turn.gold
            used = left is not None and left.followups > 0
            results.append(TurnResult(dialogue, turn, method, right, found.outcome, used))
            previous = left
    return results


def measure(engine: Engine, dialogues: Sequence[Dialogue] | None = None) -> list[TurnResult]:
    """The bot's way and the baseline over every dialogue."""
    dialogues = load() if dialogues is None else dialogues
    return run(engine, dialogues, CONTEXT, in_context) + run(engine, dialogues, ALONE, alone)


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


@dataclass(frozen=True)
class Figures:
    """Per method and half: the share of each kind of turn answered right, and how often the bot
    took a turn in context (follow-ups: should be 1; new questions: should be 0)."""

    turns: int
    right: dict[str, float | None]
    counts: dict[str, int]
    context_taken: dict[str, float | None]


def figures(results: Sequence[TurnResult]) -> dict[str, dict[str, Figures]]:
    """``{method: {half: Figures}}``."""
    found: dict[str, dict[str, Figures]] = {}
    for method in METHODS:
        found[method] = {}
        for half in HALVES:
            mine = [r for r in results if r.method == method and r.dialogue.half == half]
            by_kind = {kind: [r for r in mine if r.turn.kind == kind] for kind in KINDS}
            found[method][half] = Figures(
                turns=len(mine),
                right={kind: _share([r.right for r in rs]) for kind, rs in by_kind.items()},
                counts={kind: len(rs) for kind, rs in by_kind.items()},
                context_taken={kind: _share([r.used_context for r in rs]) for kind, rs in by_kind.items()},
            )
    return found


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def render(found: dict[str, dict[str, Figures]]) -> str:
    """The report's section: a row per method and half."""
    header = ["method", "half", *(f"{KIND_NAMES[k]} (n)" for k in KINDS), "follow-ups in context", "new in context"]
    lines = [
        "## dialogues: follow-up questions in a chat (newsroom corpus)",
        "",
        "Each dialogue of `newsroom/dialogues.json` runs through `index.followups.ask_in_context` (what the bot and "
        "the console do), each turn in the context the engine's own previous answers left; the baseline asks every "
        "turn alone with `Engine.ask`. Halves by the dialogue's position (tune even, check odd). Right = the first "
        "passage is a gold paragraph.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|---|" + "--:|" * (len(header) - 2),
    ]
    for method, halves in found.items():
        for half, f in halves.items():
            cells = [f"{_cell(f.right[k])} ({f.counts[k]})" for k in KINDS]
            taken = [_cell(f.context_taken["followup"]), _cell(f.context_taken["new"])]
            if method == ALONE:
                taken = ["-", "-"]
            lines.append("| " + " | ".join([method, half, *cells, *taken]) + " |")
    return "\n".join(lines) + "\n"


def to_json(found: dict[str, dict[str, Figures]]) -> dict[str, Any]:
    return {
        method: {
            half: {"turns": f.turns, "right": f.right, "counts": f.counts, "context_taken": f.context_taken}
            for half, f in halves.items()
        }
        for method, halves in found.items()
    }
