"""Questions readers liked, as a question set for an editor to review (``python -m bot stats --export-eval``)."""

from __future__ import annotations

from typing import Any

from bot.core.feedback import DAY, Feedback, plain
from bot.core.stats.report import normalise, utc_day


def liked_questions(feedback: Feedback, days: int) -> dict[str, Any]:
    """Questions whose shown passage got more 👍 than 👎, as a question set like ``qa_dev_v2.json``.

    Each question once (by normalised text), with the first passage of the page readers liked:
    its paragraph number, its answering sentence as the gold substring, and its source. Meant for
    an editor to review into test questions, not to be used unread.
    """
    since = feedback.now() - days * DAY
    rows = feedback.rows(
        "SELECT q.question, q.lang, s.source, s.paragraph, s.sentence FROM questions q "
        "JOIN (SELECT chat, message, page, sum(vote) AS score FROM votes GROUP BY chat, message, page) v "
        "ON v.chat = q.chat AND v.message = q.message "
        "JOIN shown s ON s.chat = v.chat AND s.message = v.message AND s.page = v.page AND s.rank = v.page "
        "WHERE q.at >= ? AND v.score > 0 ORDER BY q.at",
        since,
    )
    answerable, seen = [], set()
    for question, lang, source, paragraph, sentence in rows:
        if normalise(question) in seen:
            continue
        seen.add(normalise(question))
        item: dict[str, Any] = {"q": plain(question), "lang": lang, "paragraph": [paragraph], "gold": [plain(sentence)]}
        answerable.append({**item, "style": "reader", "source": source})
    return {
        "about": (
            f"Questions readers asked in the {days} days before {utc_day(feedback.now())} whose shown passage got "
            "more thumbs up than down (python -m bot stats --export-eval). paragraph and gold are the first "
            "passage of the page they liked; lang is the reader's Telegram language. Review before use."
        ),
        "answerable": answerable,
        "off_topic": [],
        "near_topic": [],
    }
