"""GenAI evaluation: `evaluate`, scorers and LLM judges, evaluation datasets."""

from heron.genai import scorers
from heron.genai.evaluation.harness import evaluate
from heron.genai.evaluation.results import EvaluationResult
from heron.genai.feedback import Feedback
from heron.genai.scorers.base import Scorer, scorer

__all__ = ["EvaluationResult", "Feedback", "Scorer", "evaluate", "scorer", "scorers"]
