"""GenAI evaluation: `evaluate`, scorers and LLM judges, evaluation datasets."""

from heron.genai import datasets, judges, scorers
from heron.genai.agreement import Agreement, judge_agreement
from heron.genai.evaluation.harness import evaluate
from heron.genai.evaluation.results import EvaluationResult
from heron.genai.feedback import Feedback
from heron.genai.judges.custom import make_judge
from heron.genai.scoring import Scorer, scorer

__all__ = [
    "Agreement",
    "EvaluationResult",
    "Feedback",
    "Scorer",
    "datasets",
    "evaluate",
    "judge_agreement",
    "judges",
    "make_judge",
    "scorer",
    "scorers",
]
