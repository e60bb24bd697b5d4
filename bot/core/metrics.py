"""Prometheus metrics of the bot, served by the web server at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from index import Outcome

QUESTIONS = Counter(
    "bot_questions_total",
    "Questions received, by outcome: answered, hedged (related passages that do not answer it directly), "
    "unanswered (not in the corpus), rejected (bad input or throttled).",
    ["outcome"],
)
ANSWER_SECONDS = Histogram(
    "bot_answer_seconds",
    "Time from a question to its ranked passages (engine only).",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)
THROTTLED = Counter(
    "bot_throttled_updates_total",
    "Updates dropped before any handler because the reader had used their window (see bot.chat.fairness).",
)
ERRORS = Counter("bot_errors_total", "Errors caught by the error handler.")
INLINE = Counter(
    "bot_inline_queries_total",
    "Inline queries, by outcome: answered, hedged, refused, rejected (bad input), throttled (not searched).",
    ["outcome"],
)
INLINE_CHOSEN = Counter(
    "bot_inline_chosen_total",
    "Inline results users sent, by kind: passage, example, none (not covered), problem, other.",
    ["kind"],
)
REINDEXES = Counter("bot_reindexes_total", "Index rebuilds, by result: ok or failed.", ["result"])
UPDATES = Counter(
    "bot_webhook_updates_total",
    "Webhook requests, by result: accepted, duplicate, forbidden, invalid, too_large, unavailable.",
    ["result"],
)


def count_question(outcome: Outcome) -> None:
    """Count a searched question by the engine's outcome; a refused one keeps its older label, unanswered."""
    QUESTIONS.labels("unanswered" if outcome == "refused" else outcome).inc()
