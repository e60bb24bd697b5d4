"""The editor's report on the feedback: what readers asked, how it went, what they voted down.

Plain and synchronous (it reads SQLite and may embed questions): the bot calls ``build`` through
``asyncio.to_thread``; ``python -m bot stats`` calls it directly. Rewordings of one unanswered
question are grouped, by their text and, given the engine's encoder, by their meaning.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from bot.core.feedback import DAY, RECORDED, Feedback

# Questions whose embeddings are at least this similar count as one (multilingual-e5-small:
# rewordings of one question score ~0.96-0.995, different questions on the same subject ≤ ~0.92).
NEAR_DUPLICATE = 0.95
TOP = 10

Embed = Callable[[list[str]], np.ndarray]


def normalise(question: str) -> str:
    """Casefolded, punctuation dropped, whitespace collapsed: rewrites that differ only so are one question."""
    kept = "".join(" " if unicodedata.category(c).startswith("P") else c for c in question.casefold())
    return " ".join(kept.split())


@dataclass(frozen=True)
class Unanswered:
    """Refused or hedged questions that are one question (same text, or nearly the same meaning)."""

    question: str  # the wording asked most often
    asked: int
    chats: int
    outcome: str  # the outcome of the wording shown
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Downvoted:
    """A passage shown on pages readers voted on."""

    source: str
    paragraph: int
    down: int
    up: int


@dataclass(frozen=True)
class Report:
    days: int
    since: float
    questions: int
    chats: int
    outcomes: dict[str, int]
    up: int
    down: int
    unanswered: list[Unanswered] = field(default_factory=list)
    downvoted: list[Downvoted] = field(default_factory=list)

    def share(self, outcome: str) -> float:
        return self.outcomes.get(outcome, 0) / self.questions if self.questions else 0.0


def _groups(rows: Sequence[tuple[str, str, str]], embed: Embed | None) -> list[Unanswered]:
    """Group (question, outcome, chat) rows by normalised text, then merge groups whose embeddings nearly match."""
    by_text: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for row in rows:
        by_text[normalise(row[0])].append(row)
    keys = sorted(by_text, key=lambda k: (-len(by_text[k]), k))
    clusters: list[list[str]] = [[k] for k in keys]
    if embed is not None and len(keys) > 1:
        vectors = embed([Counter(r[0] for r in by_text[k]).most_common(1)[0][0] for k in keys])
        leaders: list[int] = []
        clusters = []
        for i in range(len(keys)):
            match = next((n for n, j in enumerate(leaders) if float(vectors[i] @ vectors[j]) >= NEAR_DUPLICATE), None)
            if match is None:
                leaders.append(i)
                clusters.append([keys[i]])
            else:
                clusters[match].append(keys[i])
    found = []
    for cluster in clusters:
        members = [row for key in cluster for row in by_text[key]]
        wordings = Counter(row[0] for row in members)
        top = wordings.most_common(1)[0][0]
        outcome = next(row[1] for row in members if row[0] == top)
        variants = tuple(w for w, _ in wordings.most_common() if w != top)
        found.append(Unanswered(top, len(members), len({row[2] for row in members}), outcome, variants))
    return sorted(found, key=lambda u: (-u.asked, -u.chats, u.question))


def build(feedback: Feedback, days: int = 7, *, embed: Embed | None = None, top: int = TOP) -> Report:
    """The report over the last ``days`` days; ``embed`` (the engine's question encoder) merges rewordings."""
    since = feedback.now() - days * DAY
    outcomes = dict(feedback.rows("SELECT outcome, count(*) FROM questions WHERE at >= ? GROUP BY outcome", since))
    ((chats,),) = feedback.rows("SELECT count(DISTINCT chat) FROM questions WHERE at >= ?", since)
    votes = dict(feedback.rows(f"SELECT vote, count(*) FROM votes v WHERE at >= ? AND {RECORDED} GROUP BY vote", since))
    unanswered = feedback.rows(
        "SELECT question, outcome, chat FROM questions WHERE at >= ? AND outcome IN ('refused', 'hedged') "
        "ORDER BY at, question",  # among equally frequent wordings, the first asked represents the group
        since,
    )
    downvoted = feedback.rows(
        "SELECT s.source, s.paragraph, sum(v.vote < 0), sum(v.vote > 0) FROM votes v "
        "JOIN shown s ON s.chat = v.chat AND s.message = v.message AND s.page = v.page "
        "WHERE v.at >= ? GROUP BY s.source, s.paragraph HAVING sum(v.vote < 0) > 0 "
        "ORDER BY sum(v.vote < 0) DESC, sum(v.vote > 0), s.source, s.paragraph LIMIT ?",
        since,
        top,
    )
    return Report(
        days=days,
        since=since,
        questions=sum(outcomes.values()),
        chats=int(chats),
        outcomes=outcomes,
        up=int(votes.get(1, 0)),
        down=int(votes.get(-1, 0)),
        unanswered=_groups(unanswered, embed)[:top],
        downvoted=[Downvoted(str(s), int(p), int(d), int(u)) for s, p, d, u in downvoted],
    )


def utc_day(timestamp: float) -> str:
    """The UTC date of ``timestamp``, as ``2023-10-14``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
