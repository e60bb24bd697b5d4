"""From a question to the messages that answer one page of it (plain, synchronous: run it in a thread)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.chat.replies import answer_messages, context_line, not_covered, pack
from bot.core import metrics
from bot.core.texts import Language, text
from index import Engine, Outcome, Passage
from index.followups import Turn, ask_in_context, understand

MAX_PASSAGES = 30  # how deep "more" may page into the ranking


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
