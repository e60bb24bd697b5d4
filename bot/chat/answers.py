"""From a question to reply messages (plain, synchronous), and the data of "more" buttons (see ``bot.core.buttons``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.chat.replies import answer_messages, escape, not_covered, pack
from bot.core import metrics
from bot.core.texts import Language, text
from index import Engine, Outcome, Passage
from index.followups import Turn, ask_in_context, understand

MAX_PASSAGES = 30  # how deep "more" may page into the ranking
CONTEXT_CHARS = 300  # the longest "About: ..." line shown above an answer taken in context
_MORE = re.compile(r"more:([A-Za-z0-9_-]{1,16}):(\d{1,3})")


@dataclass(frozen=True)
class Reply:
    """HTML messages answering one page of a question; ``next_offset`` is set when more passages exist.

    ``outcome`` is the engine's verdict on the whole question (see ``index.Answer``), also on later pages;
    ``shown`` the passages on this page (none for a refusal), recorded as reader feedback.
    """

    messages: list[str]
    outcome: Outcome
    next_offset: int | None = None
    shown: tuple[Passage, ...] = ()
    turn: Turn | None = None  # what the chat was talking about after this reply, for a follow-up

    @property
    def answered(self) -> bool:
        """Whether there are passages at all, hedged or not."""
        return self.outcome != "refused"


def compose(
    engine: Engine,
    question: str,
    *,
    lang: Language,
    per_page: int,
    offset: int = 0,
    examples: Sequence[str] = (),
    previous: Turn | None = None,
) -> Reply:
    """The passages ranked ``offset`` to ``offset + per_page`` for ``question``, as HTML messages.

    ``previous``: what the chat was just talking about; a follow-up is answered in its context
    (``index.followups``) and the reply starts with one line saying what it was taken to mean.
    Synchronous (it runs the engine): call it through ``asyncio.to_thread``. Raises QuestionError.
    """
    wanted = min(offset + per_page + 1, MAX_PASSAGES)
    with metrics.ANSWER_SECONDS.time():
        answer, turn = ask_in_context(engine, question, previous, wanted)  # without previous: engine.ask
    understood = understand(question, previous)
    header = [context_line(understood.shown_as, lang)] if turn.followups and understood.uses_context else []
    page = answer.passages[offset : offset + per_page]
    if not page:
        if offset:
            return Reply([text(lang, "no_more")], answer.outcome, turn=turn)
        return Reply(pack([*header, not_covered(engine.sources(), examples, lang)]), answer.outcome, turn=turn)
    end = offset + len(page)
    more = len(answer.passages) > end and end < MAX_PASSAGES
    # The hedge is said once, on the first page.
    messages = answer_messages(page, lang, hedged=answer.hedged and not offset)
    messages = pack([*header, *messages]) if header else messages
    return Reply(messages, answer.outcome, next_offset=end if more else None, shown=tuple(page), turn=turn)


def context_line(meaning: str, lang: Language) -> str:
    """The line above an answer taken in context: what the question was taken to be."""
    shown = meaning if len(meaning) <= CONTEXT_CHARS else meaning[: CONTEXT_CHARS - 1] + "…"
    return f"<i>{text(lang, 'context_line', question=escape(shown))}</i>"


def more_data(key: str, offset: int) -> str:
    """Callback data of a "more" button."""
    return f"more:{key}:{offset}"


def parse_more(data: str | None) -> tuple[str, int] | None:
    """``(key, offset)`` from a "more" button's data; None for anything else (forged or foreign)."""
    match = _MORE.fullmatch(data or "")
    if match is None or not 0 < int(match.group(2)) < MAX_PASSAGES:
        return None
    return match.group(1), int(match.group(2))
