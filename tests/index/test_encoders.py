"""The models: one vector space for questions and passages, answering without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from index.encoders import E5_MODEL, MAX_TEXT_CHARS, USE_MODEL, Encoder, load_model


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


def test_use_questions_and_passages_share_one_space() -> None:
    texts = ["Wil Poetin nu Armenië bezoeken?", "Armenia joins the International Criminal Court."]
    use = Encoder(load_model(USE_MODEL), USE_MODEL)
    through_sentence_transformers = use.documents(texts)
    direct = use.queries(texts)
    np.testing.assert_allclose(through_sentence_transformers, direct, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(direct, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("model", [E5_MODEL, USE_MODEL])
def test_answering_needs_no_torch(model: str) -> None:
    code = (
        "import sys; from index.encoders import Encoder; "
        f"e = Encoder.open({model!r}); e.queries(['hallo']); print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"


def test_an_e5_index_build_needs_no_torch() -> None:
    code = (
        "import sys; from index.encoders import Encoder; "
        f"e = Encoder.open({E5_MODEL!r}); e.documents(['hallo', 'wereld']); print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"


def test_a_text_is_read_up_to_max_text_chars_however_long_it_is(encoder: Encoder) -> None:
    """What lies past the bound never reaches the model, so no text can take unbounded memory."""
    head = " ".join(f"Armenië{i}" for i in range(1000))[:MAX_TEXT_CHARS]
    long = head + " Het Kremlin noemt de actie vijandig." * 1500  # ~55,000 characters more
    whole, cut = encoder.documents([long, head])
    np.testing.assert_allclose(whole, cut, atol=1e-6)
