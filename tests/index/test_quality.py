"""Answer quality on the eval sets (``tests/data/eval``), on the check halves.

The engines are built once per session, the article (``article_engine``), the three SQuAD
articles as a corpus of their own and the newsroom corpus, and every question is asked once through ``Engine.ask``.
Each floor of ``bench.quality.targets.FLOORS`` is its own test, so one miss does not hide
another; a failure names the figure, its value and how far it is from the floor. The tables
printed here, like ``python -m bench.quality``, also show where each figure stands against the
targets (``TARGETS``), met or not.
"""

from __future__ import annotations

import pytest

from bench.quality import data
from bench.quality.data import EVAL_DIR, FILES, PROJECT
from bench.quality.report import render
from bench.quality.run import Engines, Evaluation, evaluate, load_sets, measure
from bench.quality.targets import FLOORS, Target, check
from index import Engine, EngineConfig
from index.encoders import Encoder

pytestmark = pytest.mark.quality
# The sets whose check-half floors CI holds: all that ``make eval`` reports.
QUALITY_GATE = ("qa_dev", "qa_dev_v2", "squad", "squad-vs-article", "newsroom")


@pytest.fixture(scope="session")
def squad_engine(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Engine:
    """An engine over the SQuAD articles, one document each, checked paragraph for paragraph."""
    root = tmp_path_factory.mktemp("squad")
    expected = data.write_squad_corpus(data.load_json(EVAL_DIR / FILES["squad"]), root / "corpus")
    engine = Engine(EngineConfig(corpus_dir=root / "corpus", index_dir=root / "index"), encoder)
    engine.load()
    data.check_corpus(engine.sources(), expected)
    return engine


@pytest.fixture(scope="session")
def newsroom_engine(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Engine:
    """An engine over the newsroom corpus: the article among the team's own articles."""
    root = tmp_path_factory.mktemp("newsroom")
    names = data.write_newsroom_corpus(root / "corpus")
    engine = Engine(EngineConfig(corpus_dir=root / "corpus", index_dir=root / "index"), encoder)
    engine.load()
    assert sorted(d.name for d in engine.sources()) == sorted(names)
    return engine


@pytest.fixture(scope="session")
def evaluation(article_engine: Engine, squad_engine: Engine, newsroom_engine: Engine) -> Evaluation:
    """Every set asked once; the figures, the target checks and the index/ leak check."""
    sets = load_sets(names=QUALITY_GATE)
    results, _ = measure(Engines(article_engine, squad_engine, newsroom_engine), sets)
    questions = [q for qs in sets.values() for q in qs]
    return evaluate(results, data.find_leaks(questions, PROJECT / "index"))


def test_quality_tables(evaluation: Evaluation, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\n" + render(*evaluation.parts, preamble=["(tests/index/test_quality.py)"], seconds=0.0))
    assert set(QUALITY_GATE) <= set(evaluation.tables)
    counts = {name: methods["engine"]["all"] for name, methods in evaluation.tables.items()}
    assert (counts["qa_dev"].answerable, counts["qa_dev"].off_topic) == (28, 6)
    assert (counts["qa_dev_v2"].answerable, counts["qa_dev_v2"].off_topic, counts["qa_dev_v2"].near_topic) == (
        120,
        80,
        30,
    )
    assert (counts["squad"].answerable, counts["squad"].near_topic) == (473, 477)
    assert counts["squad-vs-article"].off_topic == 950
    newsroom = counts["newsroom"]
    assert (newsroom.answerable, newsroom.off_topic, newsroom.near_topic) == (194, 62, 52)


@pytest.mark.parametrize("target", FLOORS, ids=lambda target: target.name)
def test_floor_on_the_check_half(target: Target, evaluation: Evaluation) -> None:
    result = check(target, evaluation.tables, evaluation.languages)
    if result.passed is not True:  # False, or None: a figure that was not measured is no pass
        pytest.fail(result.summary, pytrace=False)


def test_no_eval_question_is_copied_into_index(evaluation: Evaluation) -> None:
    assert not evaluation.leaks, f"eval questions found in index/: {evaluation.leaks}"
