"""Answering: the article's passages, honest refusals, bad questions and rebuild safety."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import numpy as np
import pytest

from index import CorpusError, Engine, QuestionError, ReindexBusy

Make = Callable[..., Engine]


def test_dutch_question_gets_the_arrest_paragraph_with_its_sentence(article_engine: Engine) -> None:
    answer = article_engine.ask("Wat moet Armenië doen als Poetin op bezoek komt?")
    assert answer.answered
    best = answer.passages[0]
    assert "verplicht om hem aan te houden" in best.text
    assert best.sentence == "Wil Poetin nu Armenië bezoeken, dan is de regering verplicht om hem aan te houden."
    assert best.source == "armenia-icc-2023-10.txt"
    assert best.paragraph == 7


def test_english_question_finds_the_dutch_paragraph(article_engine: Engine) -> None:
    answer = article_engine.ask("Who is Maria Lvova-Belova?")
    assert answer.answered
    assert "Lvova-Belova" in answer.passages[0].sentence


def test_passages_are_ranked_distinct_and_marked(article_engine: Engine) -> None:
    answer = article_engine.ask("Hoe reageert het Kremlin?", k=5)
    assert 1 <= len(answer.passages) <= 5
    scores = [p.score for p in answer.passages]
    assert scores == sorted(scores, reverse=True)
    assert len({p.paragraph for p in answer.passages}) == len(answer.passages)
    for passage in answer.passages:
        assert passage.sentence in passage.text


@pytest.mark.parametrize(
    "question",
    ["Wat wordt het weer morgen in Utrecht?", "How do I bake sourdough bread?", "Wie won de Tour de France?"],
)
def test_questions_off_the_article_are_refused(article_engine: Engine, question: str) -> None:
    answer = article_engine.ask(question)
    assert not answer.answered
    assert answer.passages == ()


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "?", "...", "🙂", "\u200b", "\u202e", "🙂 \u200b?!\x07"])
def test_a_question_without_a_letter_or_digit_is_refused_as_empty(article_engine: Engine, question: str) -> None:
    with pytest.raises(QuestionError, match=r"^the question is empty") as refused:
        article_engine.ask(question)
    assert refused.value.reason == "empty"
    assert article_engine.ask("\u202eWie is Maria Lvova-Belova? 🙂").answered  # marks beside words are no harm


def test_huge_question_is_refused_with_the_limit(article_engine: Engine) -> None:
    with pytest.raises(QuestionError, match=r"too long \(10000 characters; the limit is 1000\)"):
        article_engine.ask("a" * 10_000)


def test_huge_question_is_answered_when_allowed(make_engine: Make) -> None:
    engine = make_engine(
        {"a.txt": "Armenië sluit zich aan bij het Internationaal Strafhof."}, max_question_chars=20_000
    )
    engine.load()
    answer = engine.ask(("Sluit Armenië zich aan bij het Strafhof? " * 250)[:10_000])
    assert answer.answered


def test_whitespace_is_normalised_and_answers_are_cached(article_engine: Engine) -> None:
    first = article_engine.ask("  Wie is   Maria Lvova-Belova? ")
    assert first.question == "Wie is Maria Lvova-Belova?"
    assert article_engine.ask("Wie is Maria Lvova-Belova?") is first


def test_empty_corpus_is_a_clear_error(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({})
    with pytest.raises(CorpusError, match="no readable documents"):
        engine.load()


def test_non_utf8_file_is_named_and_the_rest_indexed(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine(
        {
            "good.txt": "Armenië sluit zich aan bij het Internationaal Strafhof.",
            "broken.txt": "Caf\xe9".encode("latin-1") + b"\xff\xfe",
        }
    )
    report = engine.reindex()
    assert report.documents == 1
    assert "broken.txt" in report.skipped
    assert [d.name for d in engine.sources()] == ["good.txt"]


def test_only_non_utf8_files_name_them_in_the_error(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({"broken.txt": b"\xff\xfe\xfa"})
    with pytest.raises(CorpusError, match=r"broken\.txt: not UTF-8"):
        engine.reindex()


def test_second_reindex_while_one_runs_is_refused(make_hashed_engine: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    engine.load()
    started, release = threading.Event(), threading.Event()
    build = engine.build

    def slow_build(*args: object, **kwargs: object) -> object:
        started.set()
        release.wait(10)
        return build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "build", slow_build)
    worker = threading.Thread(target=engine.reindex)
    worker.start()
    assert started.wait(10)
    assert engine.reindexing
    with pytest.raises(ReindexBusy):
        engine.reindex()
    assert engine.ask("Sluit Armenië zich aan bij het Strafhof?").answered  # the old index keeps answering
    release.set()
    worker.join(10)
    assert not engine.reindexing


def test_names_match_without_their_diacritics() -> None:
    from index.lexical import tokenize

    assert tokenize("Armenië en Oekraïne") == tokenize("Armenie en Oekraine")
    assert "het" not in tokenize("het Strafhof")


def test_hubness_is_the_mean_similarity_to_the_nearest_questions() -> None:
    """CSLS's r term: a vector near many questions scores above one near none of them."""
    from index.search import HUB_NEIGHBOURS, hubness

    rng = np.random.default_rng(0)
    questions = rng.standard_normal((3 * HUB_NEIGHBOURS, 8)).astype(np.float32)
    questions /= np.linalg.norm(questions, axis=1, keepdims=True)
    hub = questions[:HUB_NEIGHBOURS].mean(axis=0)
    vectors = np.stack([hub, -hub]) / np.linalg.norm(hub)
    nearest = np.sort(vectors @ questions.T, axis=1)[:, -HUB_NEIGHBOURS:]
    np.testing.assert_allclose(hubness(vectors, questions), nearest.mean(axis=1), rtol=1e-5)
    assert hubness(vectors, questions)[0] > hubness(vectors, questions)[1]
    few = questions[:3]
    np.testing.assert_allclose(hubness(vectors, few), (vectors @ few.T).mean(axis=1), rtol=1e-5)
    assert hubness(vectors[:0], questions).shape == (0,)


def test_fused_scores_stand_against_the_head_not_the_unrelated_rest() -> None:
    """A candidate's z-score is taken among the ``FUSION_HEAD`` best: paragraphs far below them,
    however many, change nothing; up to the head's size it is the plain z-score."""
    from index.search import FUSION_HEAD, head_zscore, zscore

    rng = np.random.default_rng(1)
    head = rng.uniform(0.6, 0.9, FUSION_HEAD).astype(np.float32)
    few, many = np.concatenate([head, np.zeros(5, np.float32)]), np.concatenate([head, np.zeros(500, np.float32)])
    np.testing.assert_allclose(head_zscore(few)[:FUSION_HEAD], head_zscore(many)[:FUSION_HEAD], rtol=1e-5)
    np.testing.assert_allclose(head_zscore(head), zscore(head), rtol=1e-5)
    assert not head_zscore(np.ones(2 * FUSION_HEAD, np.float32)).any()


def _with_bars(engine: Engine, refuse: float, hedge: float) -> Engine:
    """``engine``'s index and model under other relevance bars."""
    config = dataclasses.replace(engine.config, min_relevance=refuse, answer_relevance=hedge)
    other = Engine(config, engine.encoder)
    other.load(build=False)
    return other


def test_the_outcome_follows_the_question_relevance_and_the_two_bars(article_engine: Engine) -> None:
    question = "Wat moet Armenië doen als Poetin op bezoek komt?"
    relevance = article_engine.ask(question).relevance
    assert article_engine.ask(question).outcome == "answered"
    assert relevance > article_engine.ask("How do I bake sourdough bread?").relevance
    cases = {
        (relevance - 1, relevance - 0.5): "answered",
        (relevance - 1, relevance + 0.5): "hedged",
        (relevance + 0.5, relevance + 1): "refused",
    }
    for (refuse, hedge), outcome in cases.items():
        answer = _with_bars(article_engine, refuse, hedge).ask(question, k=3)
        assert answer.outcome == outcome, (refuse, hedge)
        assert answer.relevance == pytest.approx(relevance)
        assert len(answer.passages) == (0 if outcome == "refused" else 3)
        assert answer.answered == (outcome != "refused")


def test_an_answered_question_gets_all_k_passages_not_only_the_relevant_ones(article_engine: Engine) -> None:
    """The decision is about the question; once it is answered, ranking alone orders the passages."""
    answer = article_engine.ask("Wie is Maria Lvova-Belova?", k=8)
    assert answer.outcome == "answered"
    assert sorted(p.paragraph for p in answer.passages) == list(range(1, 9))
    assert "Lvova-Belova" in answer.passages[0].text


def test_each_sentence_is_also_embedded_after_its_document_title(make_hashed_engine: Make) -> None:
    """The fourth ranking signal reads a sentence after its document's title, which names the
    subject a sentence's pronouns leave out."""
    engine = make_hashed_engine(
        {"koning-willem-alexander.txt": "Hij opende gisteren een brug. Het regende.\n\n# Elders\n"}
    )
    engine.load()
    index = engine.index
    assert index.documents[0].title == "Koning willem alexander"
    expected = engine.encoder.documents(
        [
            "Koning willem alexander: Hij opende gisteren een brug.",
            "Koning willem alexander: Het regende.",
            "Koning willem alexander: # Elders",
        ]
    )
    assert index.titled_vectors.shape == (index.vectors.ntotal, index.vectors.d) == expected.shape
    np.testing.assert_allclose(index.titled_vectors, expected, atol=1e-5)
    plain = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    assert not np.allclose(plain, index.titled_vectors, atol=1e-3)


def test_a_new_title_line_rebuilds_the_index_with_the_titled_sentences(make_hashed_engine: Make) -> None:
    """The titled vectors hold the title, so an index built before a title changed is stale."""
    engine = make_hashed_engine({"brug.txt": "Hij opende gisteren een brug."})
    engine.load()
    before = engine.index.version
    (engine.config.corpus_dir / "brug.txt").write_text("title: Koning opent brug\nHij opende gisteren een brug.")
    reopened = make_hashed_engine()
    reopened.load()
    assert reopened.index.version != before
    assert [d.title for d in reopened.sources()] == ["Koning opent brug"]
    expected = reopened.encoder.documents(["Koning opent brug: Hij opende gisteren een brug."])
    np.testing.assert_allclose(reopened.index.titled_vectors, expected, atol=1e-5)


def test_a_question_for_a_number_or_a_time_the_best_paragraph_lacks_is_hedged(make_engine: Make) -> None:
    """With bars so low that relevance alone would answer everything, the answer type decides."""
    engine = make_engine(
        {
            "zeestad.txt": "De haven van Zeestad is de oudste van het land. Vissers leggen er hun boten aan.\n\n"
            "De brug over de rivier werd in 1932 geopend. Ze is vierhonderd meter lang.\n"
        },
        min_relevance=-100.0,
        answer_relevance=-50.0,
    )
    engine.load()
    cases = {
        "Hoeveel boten liggen er in de haven van Zeestad?": ("haven", "hedged"),
        "How many boats are moored in the harbour of Zeestad?": ("haven", "hedged"),
        "Wanneer werd de brug over de rivier geopend?": ("brug", "answered"),
        "How long is the bridge over the river?": ("brug", "answered"),
        "Wie legt er boten aan in de haven?": ("haven", "answered"),
    }
    for question, (paragraph, outcome) in cases.items():
        answer = engine.ask(question, k=1)
        assert paragraph in answer.passages[0].text, question
        assert answer.outcome == outcome, question


def test_a_passage_of_an_article_the_question_is_not_about_is_left_out(make_engine: Make) -> None:
    """The second and third places are not filled with the closest paragraph of an unrelated article."""
    engine = make_engine(
        {
            "a12.txt": "title: Snelweg A12 dicht na ongeluk\ndate: 2023-10-12\n\n"
            "De politie sloot de snelweg A12 bij Woerden urenlang af na een ongeluk met een vrachtwagen.\n\n"
            "Automobilisten moesten omrijden via de A2 en de A27; de file was twintig kilometer lang.\n",
            "bakker.txt": "title: Bakker viert jubileum\ndate: 2023-10-12\n\n"
            "Bakkerij Van Dam in Zwolle bakt al zeventig jaar brood met zuurdesem.\n\n"
            "De bakker staat elke ochtend om vier uur op om het deeg te kneden.\n",
        }
    )
    engine.load()
    answer = engine.ask("Waarom werd de A12 bij Woerden afgesloten?", k=3)
    assert answer.outcome != "refused"
    assert [p.source for p in answer.passages] == ["a12.txt", "a12.txt"]
    everything = engine.ask("Waarom werd de A12 bij Woerden afgesloten?", k=3, unrelated=True)
    assert [p.source for p in everything.passages] == ["a12.txt", "a12.txt", "bakker.txt"]
    assert everything.passages[2].relevance < engine.bars[0]
