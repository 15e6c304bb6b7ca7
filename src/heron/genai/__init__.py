"""GenAI evaluation (`evaluate`, scorers and LLM judges, evaluation datasets) and the prompt
registry (`register_prompt`, `load_prompt`, `search_prompts`, aliases)."""

from heron.genai import datasets, judges, scorers
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
from heron.genai.thresholds import check_thresholds, get_thresholds, set_threshold
from heron.services.judge_agreement import Agreement, judge_agreement

__all__ = [
    "Agreement",
    "EvaluationResult",
    "Feedback",
    "Prompt",
    "PromptVersion",
    "Scorer",
    "check_thresholds",
    "datasets",
    "delete_prompt_alias",
    "evaluate",
    "get_thresholds",
    "judge_agreement",
    "judges",
    "load_prompt",
    "make_judge",
    "register_prompt",
    "scorer",
    "scorers",
    "search_prompts",
    "set_prompt_alias",
    "set_threshold",
]
