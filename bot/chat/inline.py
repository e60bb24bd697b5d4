"""Inline mode: ``@bot question`` in any chat offers the best passages as messages to send there.

Each result is one passage, sent as the same HTML block as in the bot's own chat (its document's
title, paragraph number, the answering sentence in bold). An empty query offers the example
questions, each with its best passage; an off-topic one a single result saying the article does
not cover it; a question the engine will not search (too long) a single result saying why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import InlineQuery, InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.chat.replies import MESSAGE_LIMIT, NO_PREVIEW, lang, not_covered, passage_block, size
from bot.chat.state import Context
from bot.core import metrics
from bot.core.texts import Language, not_searched, text
from index import Engine, Passage, QuestionError

logger = logging.getLogger(__name__)

DESCRIPTION_CHARS = 200  # clients show two or three lines of a result's description


def _article(
    result_id: str, title: str, message: str, description: str | None = None, url: str | None = None
) -> InlineQueryResultArticle:
    content = InputTextMessageContent(message, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
    short = (
        description[: DESCRIPTION_CHARS - 1] + "…"
        if description and len(description) > DESCRIPTION_CHARS
        else description
    )
    return InlineQueryResultArticle(result_id, title, content, description=short, url=url)


def _passage_result(
    result_id: str, passage: Passage, lng: Language, *, hedged: bool, title: str | None = None
) -> InlineQueryResultArticle:
    """One passage as a result: titled by its document and paragraph (or ``title``), described by its sentence."""
    document = passage.title or passage.source
    preface = text(lng, "hedged") + "\n\n" if hedged else ""
    message = preface + passage_block(passage, lng, MESSAGE_LIMIT - size(preface))
    shown = title or f"{document} · {text(lng, 'paragraph')} {passage.paragraph}"
    start = passage.text.find(passage.sentence) if passage.sentence else -1
    return _article(result_id, shown, message, passage.text[max(start, 0) :], url=passage.url)


def inline_results(
    engine: Engine, query: str, *, lang: Language, k: int, examples: Sequence[str]
) -> list[InlineQueryResultArticle]:
    """The results for an inline ``query`` (synchronous: it runs the engine; call it in a thread)."""
    if not query.strip():
        results = []
        for number, example in enumerate(examples):
            try:
                answer = engine.ask(example, 1)
            except QuestionError:  # an EXAMPLE_QUESTIONS entry over the limit: not offered
                continue
            if answer.passages:
                passage = answer.passages[0]
                results.append(_passage_result(f"e{number}", passage, lang, hedged=answer.hedged, title=example))
        return results
    try:
        answer = engine.ask(query, k)
    except QuestionError as exc:
        metrics.INLINE.labels("rejected").inc()
        problem = not_searched(lang, exc)
        return [_article("problem", problem, problem)]
    metrics.INLINE.labels(answer.outcome).inc()
    if not answer.passages:
        topics = "; ".join(document.title for document in engine.sources())
        message = not_covered(engine.sources(), (), lang)
        return [_article("none", text(lang, "inline_not_covered"), message, text(lang, "inline_covers", topics=topics))]
    return [_passage_result(f"p{n}", p, lang, hedged=answer.hedged) for n, p in enumerate(answer.passages)]


async def inline_query(update: Update, context: Context) -> None:
    """``@bot question`` in any chat: the best passages, cached by Telegram and by the engine.

    Past the user's ``INLINE_THROTTLE_QUERIES`` in ``INLINE_THROTTLE_SECONDS`` the query gets no
    results and no search, and Telegram is told not to cache that: the query typed after the wait
    is answered as usual.
    """
    query = update.inline_query
    assert query is not None
    bot_data = context.bot_data
    settings = bot_data.settings
    if await bot_data.inline_throttle.check(query.from_user.id):
        metrics.INLINE.labels("throttled").inc()
        await _answer(query, [], cache_time=0)
        return
    results = await asyncio.to_thread(
        inline_results,
        context.bot_data.engine,
        query.query,
        lang=lang(update),
        k=settings.top_k,
        examples=settings.example_questions,
    )
    await _answer(query, results, cache_time=settings.inline_cache_seconds)


async def _answer(query: InlineQuery, results: list[InlineQueryResultArticle], *, cache_time: int) -> None:
    try:
        await query.answer(results, cache_time=cache_time, is_personal=True)
    except BadRequest as exc:  # the user typed on: Telegram no longer waits for this query's answer
        logger.info("inline query not answered: %s", exc)


async def chosen_result(update: Update, context: Context) -> None:
    """A result a user sent (reported when inline feedback is on in BotFather): counted, nothing stored."""
    chosen = update.chosen_inline_result
    assert chosen is not None
    kind = {"p": "passage", "e": "example"}.get(chosen.result_id[:1], chosen.result_id)
    metrics.INLINE_CHOSEN.labels(kind if kind in ("passage", "example", "none", "problem") else "other").inc()
