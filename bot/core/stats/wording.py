"""The editor's report as plain lines in English or Dutch: the terminal's output, and (escaped) the /stats reply."""

from __future__ import annotations

from bot.core.feedback import plain
from bot.core.stats.report import Report, utc_day
from bot.core.texts import Language, text
from index import OUTCOMES


def lines(report: Report, lang: Language = "en") -> list[str]:
    """The report as plain lines in ``lang``: the terminal's output, and (escaped) the /stats reply."""
    since = utc_day(report.since)
    found = [
        text(lang, "stats_header", days=report.days, since=since, questions=report.questions, chats=report.chats),
        text(lang, "stats_outcomes", **{outcome: report.share(outcome) for outcome in OUTCOMES}),
        text(lang, "stats_votes", up=report.up, down=report.down),
        "",
        text(lang, "stats_unanswered"),
    ]
    for rank, group in enumerate(report.unanswered, start=1):
        outcome = text(lang, f"outcome_{group.outcome}")
        asked = {"question": group.question, "asked": group.asked, "chats": group.chats, "outcome": outcome}
        found.append(text(lang, "stats_asked", rank=rank, **asked))
        found += [text(lang, "stats_also", variant=variant) for variant in group.variants[:3]]
    if not report.unanswered:
        found.append(text(lang, "stats_none"))
    found += ["", text(lang, "stats_downvoted")]
    found += [
        text(lang, "stats_passage", source=d.source, paragraph=d.paragraph, down=d.down, up=d.up)
        for d in report.downvoted
    ]
    if not report.downvoted:
        found.append(text(lang, "stats_none"))
    return [plain(line) for line in found]  # rows stored before questions were cleaned, too
