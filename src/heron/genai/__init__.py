"""GenAI evaluation (`evaluate`, scorers and LLM judges, evaluation datasets) and the prompt
registry (`register_prompt`, `load_prompt`, `search_prompts`, aliases)."""

from heron.genai import datasets, judges, scorers
from heron.genai.agreement import Agreement, judge_agreement
from heron.genai.evaluation.harness import evaluate
from heron.genai.evaluation.results import EvaluationResult
from heron.genai.feedback import Feedback
from heron.genai.judges.custom import make_judge
from heron.genai.prompts import (
    Prompt,
    PromptVersion,
    delete_prompt_alias,
    load_prompt,
    register_prompt,
    search_prompts,
    set_prompt_alias,
)
from heron.genai.scoring import Scorer, scorer

__all__ = [
    "Agreement",
    "EvaluationResult",
    "Feedback",
    "Prompt",
    "PromptVersion",
    "Scorer",
    "datasets",
    "delete_prompt_alias",
    "evaluate",
    "judge_agreement",
    "judges",
    "load_prompt",
    "make_judge",
    "register_prompt",
    "scorer",
    "scorers",
    "search_prompts",
    "set_prompt_alias",
]
