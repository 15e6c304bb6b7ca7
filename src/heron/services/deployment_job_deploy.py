"""The deploy task: points a serving endpoint at the version, its traffic share growing in
canary steps, and/or points an alias at it.

Each step is a new endpoint configuration: the version's served entity gets the step's
percentage and the entities serving before share the rest as they did; the task waits until
every replica serves it, holds it for the step interval, then takes the next. What the task
did is saved as it goes (the configuration before it, the steps done, the alias's version
before it), so a worker that takes it over after a crash goes on from the last step, and the
post-deploy check knows what to roll back to. A step the replicas cannot take (they fail to
load the version, or do not get there in time) puts the configuration from before back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from heron.entities.deployment_jobs import TaskKind
from heron.entities.serving import EndpointConfig, ServedEntity, TrafficRoute
from heron.errors import HeronError, NotFound
from heron.services.deployment_job_params import DeployParams, deploy_params
from heron.services.deployment_job_runner import TaskContext
from heron.services.registry import RegistryService
from heron.services.serving_endpoints import EndpointService, default_entity_name
from heron.services.serving_state import ConfigUpdate
from heron.store.deployment_jobs import Event, Outcome

READY_POLL_S = 1.0
_EMPTY = EndpointConfig(config_version=0, served_entities=(), routes=())


def canary_config(current: EndpointConfig, entity: ServedEntity, percent: int) -> EndpointConfig:
    """`current` with `entity` taking `percent` of the traffic and the entities that had some
    sharing the rest in their old proportions (at 100%, or with nobody else serving: all of
    it, and the others leave)."""
    others = {
        r.served_entity_name: r.traffic_percentage
        for r in current.routes
        if r.served_entity_name != entity.name and r.traffic_percentage > 0
    }
    if percent >= 100 or not others:
        return EndpointConfig(
            config_version=0,
            served_entities=(entity,),
            routes=(TrafficRoute(served_entity_name=entity.name, traffic_percentage=100),),
        )
    total = sum(others.values())
    shares = _split(100 - percent, others, total)
    kept = [e for e in current.served_entities if e.name in shares]
    routes = [TrafficRoute(served_entity_name=n, traffic_percentage=p) for n, p in shares.items()]
    names = {e.name for e in kept} | {entity.name}
    return EndpointConfig(
        config_version=0,
        served_entities=(*kept, entity),
        routes=(*routes, TrafficRoute(served_entity_name=entity.name, traffic_percentage=percent)),
        shadow_routes=tuple(r for r in current.shadow_routes if r.served_entity_name in names),
    )


def _split(rest: int, others: Mapping[str, int], total: int) -> dict[str, int]:
    if not others or total <= 0:
        return {}
    shares = {n: rest * p // total for n, p in others.items()}
    largest = max(others, key=lambda n: others[n])
    shares[largest] += rest - sum(shares.values())
    return shares


class DeployTask:
    def __init__(
        self, registry: RegistryService, endpoints: EndpointService, *, poll_s: float = READY_POLL_S
    ) -> None:
        self._registry = registry
        self._endpoints = endpoints
        self._poll_s = poll_s

    def __call__(self, ctx: TaskContext) -> Outcome:
        params = deploy_params(ctx.spec.name, ctx.spec.params)
        deployed: dict[str, Any] = {"task": ctx.spec.name}
        if params.endpoint is not None:
            failure = self._roll_out(ctx, params)
            if failure is not None:
                return failure
            deployed.update(endpoint=params.endpoint, traffic_percentage=100)
        if params.alias is not None:
            self._move_alias(ctx, params.alias)
            deployed["alias"] = params.alias
        ctx.log(f"Deployed version {ctx.run.version} of {ctx.run.name}")
        return Outcome(
            succeeded=True, events=[Event(kind="deployed", action="DEPLOYED", detail=deployed)]
        )

    def _roll_out(self, ctx: TaskContext, params: DeployParams) -> Outcome | None:
        assert params.endpoint is not None  # noqa: S101 - the caller checked
        name, detail = params.endpoint, ctx.task.detail
        entity = ServedEntity(
            name=default_entity_name(ctx.run.name, ctx.run.version, None),
            entity_name=ctx.run.name,
            entity_version=ctx.run.version,
            workload_size=params.workload_size,
        )
        if "previous_config_version" not in detail:
            previous = self._current(name)
            # The version number only: the configuration itself stays in the endpoint's
            # history (its environment variables may be secrets a task's detail must not show).
            before = None if previous is None else previous.config_version
            ctx.save({"endpoint": name, "served_entity": entity.name,
                      "previous_config_version": before})  # fmt: skip
            detail = {**detail, "previous_config_version": before}
        done: list[int] = list(detail.get("steps_done", ()))
        # A new endpoint has nothing to share its traffic with: all of it at once.
        before = detail.get("previous_config_version")
        steps = params.canary if before is not None else (100,)
        for percent in steps:
            if percent in done:
                continue
            failure = self._step(ctx, params, entity, percent, before)
            if failure is not None:
                return failure
            done.append(percent)
            ctx.save({"steps_done": done, "traffic_percentage": percent})
            if percent < 100:
                ctx.sleep(params.step_interval_s)
        return None

    def _current(self, name: str) -> EndpointConfig | None:
        try:
            return self._endpoints.get_endpoint(name).endpoint.config
        except NotFound:
            return None

    def _step(
        self,
        ctx: TaskContext,
        params: DeployParams,
        entity: ServedEntity,
        percent: int,
        previous: int | None,
    ) -> Outcome | None:
        assert params.endpoint is not None  # noqa: S101 - the caller checked
        current = self._current(params.endpoint)
        config = canary_config(current or _EMPTY, entity, percent)
        ctx.log(f"Endpoint {params.endpoint}: {percent}% of the traffic to {entity.name}")
        if current is None:
            status = self._endpoints.create_endpoint(params.endpoint, config)
        else:
            status = self._endpoints.update_config(params.endpoint, config)
        problem = self._wait_ready(ctx, params, status.endpoint.config.config_version)
        if problem is None:
            return None
        ctx.log(f"Endpoint {params.endpoint}: {problem}; putting the configuration back")
        if previous is not None:
            self._endpoints.restore_config(params.endpoint, previous)
        return Outcome(error=f"endpoint {params.endpoint}: {problem}", retryable=False)

    def _wait_ready(self, ctx: TaskContext, params: DeployParams, version: int) -> str | None:
        """None once every replica serves configuration `version`, else what went wrong."""
        assert params.endpoint is not None  # noqa: S101 - the caller checked
        waited = 0.0
        while waited < params.ready_timeout_s:
            status = self._endpoints.get_endpoint(params.endpoint)
            if status.endpoint.config.config_version != version:
                return "its configuration was changed by someone else during the rollout"
            if status.config_update == ConfigUpdate.NOT_UPDATING:
                return None
            if status.config_update == ConfigUpdate.UPDATE_FAILED:
                return f"the replicas could not take the new configuration ({status.message})"
            ctx.sleep(self._poll_s)
            waited += self._poll_s
        return (
            f"the replicas did not take the new configuration within {params.ready_timeout_s:g} s"
        )

    def _move_alias(self, ctx: TaskContext, alias: str) -> None:
        name, detail = ctx.run.name, ctx.task.detail
        if "previous_alias_version" not in detail:
            try:
                before: str | None = self._registry.get_model_version_by_alias(name, alias).version
            except NotFound:
                before = None
            ctx.save({"alias": alias, "previous_alias_version": before})
        self._registry.set_registered_model_alias(name, alias, ctx.run.version)
        ctx.log(f"Alias @{alias} now points at version {ctx.run.version}")


def roll_back(
    ctx: TaskContext, registry: RegistryService, endpoints: EndpointService, reason: str
) -> Event:
    """Undoes what the nearest deploy task before `ctx`'s did: the endpoint's configuration
    from before it, the alias's version from before it. The event says what was done."""
    found: Sequence[Any] = ctx.earlier(TaskKind.DEPLOY)
    if not found:
        raise HeronError("there is no deploy task before this check to roll back")
    spec, task = found[0]
    detail: dict[str, Any] = {"task": ctx.spec.name, "deploy_task": spec.name, "reason": reason}
    previous = task.detail.get("previous_config_version")
    if task.detail.get("endpoint") and previous is not None:
        endpoints.restore_config(task.detail["endpoint"], int(previous))
        detail["endpoint"] = task.detail["endpoint"]
        ctx.log(
            f"Rolled endpoint {task.detail['endpoint']} back to its configuration from "
            "before the deploy"
        )
    if task.detail.get("alias"):
        alias, before = task.detail["alias"], task.detail.get("previous_alias_version")
        if before is None:
            registry.delete_registered_model_alias(ctx.run.name, alias)
        else:
            registry.set_registered_model_alias(ctx.run.name, alias, before)
        detail.update(alias=alias, alias_version=before)
        ctx.log(f"Alias @{alias} back to version {before}")
    return Event(kind="rolled_back", action="ROLLED_BACK", detail=detail)
