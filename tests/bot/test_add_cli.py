"""``python -m bot add`` as a user runs it: a page file or a URL added and indexed, a refusal in one line."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_cli import assert_one_error_line, built_workdir, run, workdir  # noqa: F401  (fixtures)
from tests.support.paths import DATA
from tests.support.web import Route, serve

NEWS = DATA / "pages" / "nieuws-snelweg.html"
TITLE = "Snelweg A12 urenlang dicht na kettingbotsing bij Woerden"


def test_add_a_page_file_then_the_same_article_by_url(built_workdir: Path) -> None:  # noqa: F811
    result = run(built_workdir, "add", str(NEWS))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"added {TITLE} (2024-03-14) as nieuws-snelweg.txt\nindexed 2 documents")
    with serve() as site:
        site.routes["/a12"] = Route(NEWS.read_bytes())
        result = run(built_workdir, "add", site.url("/a12"), env={"ALLOW_PRIVATE_URLS": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"updated {TITLE} (2024-03-14) as nieuws-snelweg.txt\n")  # same url: replaced
    assert sorted(p.name for p in (built_workdir / "corpus").iterdir()) == [
        "armenia-icc-2023-10.txt",
        "nieuws-snelweg.txt",
    ]


def test_a_refused_url_is_one_line_and_changes_nothing(workdir: Path) -> None:  # noqa: F811
    with serve() as site:
        result = run(workdir, "add", site.url("/a12"))
    assert_one_error_line(result, "the address of 127.0.0.1 is private or local (127.0.0.1)")
    assert result.stdout == ""
    assert sorted(p.name for p in (workdir / "corpus").iterdir()) == ["armenia-icc-2023-10.txt"]
