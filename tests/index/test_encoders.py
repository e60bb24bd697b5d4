"""The default model: one vector space for questions and passages, answering without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from index.encoders import Encoder


def test_questions_and_passages_share_one_space(encoder: Encoder) -> None:
    texts = ["Wil Poetin nu Armenië bezoeken?", "Armenia joins the International Criminal Court."]
    through_sentence_transformers = encoder.documents(texts)
    direct = encoder.queries(texts)
    np.testing.assert_allclose(through_sentence_transformers, direct, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(direct, axis=1), 1.0, atol=1e-5)


def test_answering_needs_no_torch() -> None:
    code = (
        "import sys; from index.encoders import Encoder; "
        "e = Encoder.open('use-multilingual'); e.queries(['hallo']); print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"
