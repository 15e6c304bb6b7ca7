"""LLM judges over any OpenAI-compatible endpoint: the client, its adaptive limiter, the
verdict parser, the judge cache, MLflow's built-in judges and `make_judge`."""

from heron.genai.judges.base import Judge
from heron.genai.judges.custom import make_judge
from heron.genai.judges.endpoint import JudgeEndpoint, endpoint_from_env
from heron.genai.judges.limiter import BudgetExceeded

__all__ = ["BudgetExceeded", "Judge", "JudgeEndpoint", "endpoint_from_env", "make_judge"]
