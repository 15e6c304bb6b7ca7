"""TraceLinkService: traces linked after the fact to the run they belong to, and to the prompt
versions they used (MLflow's POST /traces/link-to-run and /traces/link-prompts)."""

from __future__ import annotations

from collections.abc import Sequence

from heron.errors import InvalidParameter, NotFound
from heron.services import trace_checks as checks
from heron.services import validation as v
from heron.services.access import Authorizer, authorize
from heron.store.runs import RunStore
from heron.store.traces import TraceLinkStore, TraceStore

MAX_TRACES_PER_LINK = 100  # MLflow's limit on one link-to-run request
MAX_PROMPTS_PER_LINK = 100


class TraceLinkService:
    def __init__(
        self, links: TraceLinkStore, traces: TraceStore, runs: RunStore, authorizer: Authorizer
    ) -> None:
        self._links = links
        self._traces = traces
        self._runs = runs
        self._authorizer = authorizer

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> int:
        """Links the traces to the run (MLflow compat: ids of no trace are passed over).
        Returns how many links are new.

        Raises:
            InvalidParameter: more than 100 traces, or a malformed id.
            NotFound: no such run.
        """
        v.check_run_reference("run_id", run_id)
        if len(trace_ids) > MAX_TRACES_PER_LINK:
            raise InvalidParameter(
                f"Cannot link more than {MAX_TRACES_PER_LINK} traces to a run in a single "
                f"request. Provided {len(trace_ids)} traces."
            )
        if not trace_ids:
            return 0
        authorize(self._authorizer, "update", "run", run_id)
        self._runs.get_run(run_id)  # raises NotFound
        for trace_id in trace_ids:
            try:
                experiment_id = self._traces.experiment_of(checks.check_trace_id(trace_id))
            except NotFound:
                continue  # MLflow compat: passed over
            authorize(self._authorizer, "update", "experiment", experiment_id)
        return self._links.link_traces_to_run(trace_ids, run_id)

    def link_prompts_to_trace(self, trace_id: str, versions: Sequence[tuple[str, str]]) -> None:
        """Records the prompt versions (name, version) the trace used.

        Raises:
            InvalidParameter: a malformed trace id, prompt name or version number.
            NotFound: no such trace.
        """
        if len(versions) > MAX_PROMPTS_PER_LINK:
            raise InvalidParameter(
                f"Cannot link more than {MAX_PROMPTS_PER_LINK} prompt versions to a trace at "
                f"once, got {len(versions)}"
            )
        for name, version in versions:
            if not name:
                raise InvalidParameter("Each prompt version needs the prompt's name")
            if not (version.isascii() and version.isdigit() and len(version) <= 10):
                raise InvalidParameter(
                    f"Prompt version {version!r} of {name!r} must be a version number, e.g. '3'"
                )
        experiment_id = self._traces.experiment_of(checks.check_trace_id(trace_id))
        authorize(self._authorizer, "update", "experiment", experiment_id)
        if versions:
            self._links.link_prompts_to_trace(trace_id, versions)
