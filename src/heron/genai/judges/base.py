"""Judge: a scorer that asks a model. It renders a prompt from the row, looks the verdict up in
the judge cache, else asks the endpoint (re-asking when the answer is not the JSON asked
for), and returns an LLM_JUDGE Feedback with MLflow's judge metadata (tokens, cost)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import ClassVar

from heron.clock import now_ms
from heron.entities import reserved
from heron.entities.assessment import AssessmentSource, AssessmentSourceType
from heron.entities.evaluation import CachedVerdict
from heron.errors import InvalidState
from heron.genai.feedback import Feedback
from heron.genai.judges.cache import cache_key, current_cache
from heron.genai.judges.chat import Message, complete
from heron.genai.judges.endpoint import JudgeEndpoint, endpoint_from_env
from heron.genai.judges.verdict import Unreadable, ValueType, answer_format, read_verdict, reask
from heron.genai.scoring import Aggregation, Row, Scorer
from heron.genai.usage import current_usage

REASKS = 2  # a model whose answer cannot be read is asked again this many times

_SYSTEM = (
    "You are an impartial evaluator of the answers of an AI application. You judge only what "
    "you are asked, from the material given, and you answer in the exact JSON form requested."
)


class Judge(Scorer):
    """Base of the LLM judges. A subclass implements `prompt(row)`; `model` is a model name
    (`gpt-4o-mini`, or MLflow's `openai:/gpt-4o-mini`) asked at the configured endpoint
    (`$HERON_JUDGE_BASE_URL`, ...), or `endpoint` says where to ask."""

    kind: ClassVar[str] = "judge"

    def __init__(
        self,
        name: str,
        *,
        model: str | None = None,
        endpoint: JudgeEndpoint | None = None,
        value_type: ValueType | None = None,
        aggregations: Sequence[Aggregation] | None = None,
        inference_params: dict[str, object] | None = None,
    ) -> None:
        super().__init__(name, aggregations)
        self.model = model
        self.endpoint = endpoint
        self.value_type = value_type or ValueType()
        self.inference_params = dict(inference_params or {})

    def prompt(self, row: Row) -> str:
        raise NotImplementedError

    def resolved_endpoint(self) -> JudgeEndpoint:
        return (self.endpoint or endpoint_from_env()).with_model(self.model)

    def source(self) -> AssessmentSource:
        model = self.model or (self.endpoint.model if self.endpoint else None)
        uri = f"openai:/{model.split(':/', 1)[-1]}" if model else self.resolved_endpoint().model_uri
        return AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id=uri)

    def digest(self) -> str:
        text = f"judge\n{type(self).__qualname__}\n{self.name}\n{self.definition()}"
        return hashlib.sha256(text.encode()).hexdigest()

    def definition(self) -> str:
        """What the judge asks, whatever the row (its instructions): part of its digest."""
        return repr(
            sorted((k, repr(v)) for k, v in vars(self).items() if k != "endpoint" and k[0] != "_")
        )

    def score(self, row: Row) -> Feedback | list[Feedback]:
        return self.ask(self.prompt(row))

    def ask(self, prompt: str, span_id: str | None = None) -> Feedback:
        """The verdict on one prompt: from the cache, or from the model."""
        endpoint = self.resolved_endpoint()
        key = cache_key(self.fingerprint(), f"{endpoint.key} {endpoint.model}", prompt)
        cache = current_cache()
        cached = cache.get_verdict(key)
        usage = current_usage()
        if cached is not None:
            if usage is not None:
                usage.hit(cached.input_tokens + cached.output_tokens, cached.cost_usd)
            return self._feedback(cached, span_id, cache_hit=True)
        verdict = self._ask_model(endpoint, key, prompt)
        if usage is not None:
            usage.called(verdict.input_tokens, verdict.output_tokens, verdict.cost_usd)
        cache.put_verdict(verdict)
        return self._feedback(verdict, span_id, cache_hit=False)

    def _ask_model(self, endpoint: JudgeEndpoint, key: str, prompt: str) -> CachedVerdict:
        messages: list[Message] = [
            {"role": "system", "content": _SYSTEM},
            {"role": "user", "content": prompt + answer_format(self.value_type)},
        ]
        tokens_in = tokens_out = 0
        cost = 0.0
        reason = last = ""
        for _ in range(REASKS + 1):
            answer = complete(endpoint, messages, extra=self.inference_params)
            tokens_in += answer.input_tokens
            tokens_out += answer.output_tokens
            cost += answer.cost_usd
            last = answer.text
            try:
                value, rationale = read_verdict(answer.text, self.value_type)
            except Unreadable as exc:
                reason = str(exc)
                messages += [
                    {"role": "assistant", "content": answer.text},
                    {"role": "user", "content": reask(reason, self.value_type)},
                ]
                continue
            return CachedVerdict(
                key=key, scorer_digest=self.fingerprint(), model=endpoint.model, value=value,
                rationale=rationale, input_tokens=tokens_in, output_tokens=tokens_out,
                cost_usd=cost, create_time=now_ms(),
            )  # fmt: skip
        raise InvalidState(
            f"The judge's answer could not be read after {REASKS + 1} tries ({reason}); its "
            f"last answer began: {last[:200]!r}"
        )

    def _feedback(self, verdict: CachedVerdict, span_id: str | None, cache_hit: bool) -> Feedback:
        metadata = {
            reserved.ASSESSMENT_JUDGE_COST: "0" if cache_hit else f"{verdict.cost_usd:.8f}",
            reserved.ASSESSMENT_JUDGE_INPUT_TOKENS: "0" if cache_hit else str(verdict.input_tokens),
            reserved.ASSESSMENT_JUDGE_OUTPUT_TOKENS: "0"
            if cache_hit
            else str(verdict.output_tokens),
        }
        if cache_hit:
            metadata["heron.judge.cacheHit"] = "true"
        return Feedback(
            value=verdict.value, rationale=verdict.rationale, source=self.source(),
            metadata=metadata, span_id=span_id,
        )  # fmt: skip
