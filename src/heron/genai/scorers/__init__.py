"""Scorers: checks that need no model, LLM judges with MLflow's names, and custom ones."""

from heron.genai.feedback import Feedback
from heron.genai.scorers.base import FunctionScorer, Row, Scorer, scorer
from heron.genai.scorers.deterministic import (
    Contains,
    Cost,
    ExactMatch,
    Latency,
    RegexMatch,
    TokenCount,
    ValidJson,
)

__all__ = [
    "Contains",
    "Cost",
    "ExactMatch",
    "Feedback",
    "FunctionScorer",
    "Latency",
    "RegexMatch",
    "Row",
    "Scorer",
    "TokenCount",
    "ValidJson",
    "scorer",
]
