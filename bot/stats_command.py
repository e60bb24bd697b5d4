"""``python -m bot stats``: the editor's report on the terminal, as CSV, or the liked questions as a question set."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from bot.core.feedback import Feedback, FeedbackError
from bot.core.settings import Settings
from bot.core.stats.evalset import liked_questions
from bot.core.stats.report import build
from bot.core.stats.spreadsheet import write_csv
from bot.core.stats.wording import lines
from bot.core.texts import Language


def run(
    settings: Settings,
    days: int,
    *,
    csv_file: str | None = None,
    export_file: str | None = None,
    lang: Language = "en",
) -> int:
    """``python -m bot stats``: the report on stdout in ``lang``, or as CSV (English column names and
    outcomes, for programs), and/or the liked questions as a question set."""
    from index.encoders import open_encoder

    path = settings.feedback_path
    if not path.is_file():
        print(
            f"error: no feedback database at {path} yet: the bot records questions asked on Telegram only, "
            "not those asked with ask or chat (FEEDBACK_DB sets where it keeps them)",
            file=sys.stderr,
        )
        return 1
    feedback = Feedback(path, days=settings.feedback_days)
    try:
        if export_file is not None:
            exported = liked_questions(feedback, days)
            _write(export_file, json.dumps(exported, ensure_ascii=False, indent=1) + "\n")
            count = len(exported["answerable"])
            print(f"wrote {count} question{'' if count == 1 else 's'} to {export_file}", file=sys.stderr)
            if csv_file is None:
                return 0
        encoder = open_encoder(settings.embedding_model, query_prompt=settings.query_prompt)
        report = build(feedback, days, embed=encoder.queries)
    except FeedbackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if csv_file is None:
        print("\n".join(lines(report, lang)))
        return 0
    out = io.StringIO()
    write_csv(report, out)
    _write(csv_file, out.getvalue())
    return 0


def _write(name: str, content: str) -> None:
    """``content`` to the file ``name``, or to stdout for ``-``; OSError when it cannot be written."""
    if name == "-":
        sys.stdout.write(content)
    else:
        Path(name).write_text(content, "utf-8", newline="")
