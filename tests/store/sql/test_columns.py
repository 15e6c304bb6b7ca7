"""Every text and 32-bit integer column, read against the one check that guards what the wire
can put in it (store/sql/tables.py is the truth of what a row holds).

SQLite stores any length in a varchar and any integer in an INTEGER column; PostgreSQL refuses
both, and each mismatch was a 500 there. A new column must say here what guards it; a guard
wider than its column fails. tests/fuzz sends one past each width to every field of a real
server on both databases."""

from __future__ import annotations

import enum

import pytest
from sqlalchemy import BigInteger, Integer, String

from heron.entities import LifecycleStage
from heron.entities.assessment import AssessmentKind, AssessmentSourceType
from heron.entities.deployment_jobs import RunState, TaskKind, TaskState
from heron.entities.logged_model import LoggedModelStatus
from heron.entities.registry import ModelVersionStage, ModelVersionStatus, WebhookStatus
from heron.entities.review import LabelSchemaType, ReviewItemType, ReviewQueueType, ReviewStatus
from heron.entities.run import RunStatus
from heron.entities.security import PrincipalKind, Privilege, SecurableType
from heron.entities.serving import ReplicaState
from heron.entities.trace import SpanStatusCode, TraceState
from heron.services import (
    datasets,
    deployment_job_specs,
    deployment_jobs,
    drift,
    inference,
    judge_cache,
    judge_limits,
    label_schemas,
    logged_models,
    registry,
    registry_namespaces,
    registry_rules,
    registry_webhooks,
    review_queues,
    scorers,
    workspaces,
)
from heron.services import serving_endpoints as serving
from heron.services import trace_checks as traces
from heron.services import validation as v
from heron.services.security import audit, grant_service, mlflow_permissions, principals, tokens
from heron.store import ids
from heron.store.sql import traces_derived
from heron.store.sql.tables import metadata

MADE = "made by Heron, never taken from the wire"
EVENTS = "Heron's own names (registry event kinds, webhook entities and actions)"
HTTP_STATUS = "an HTTP status code Heron received"
ATTEMPTS = "a count Heron keeps"
UNWRITTEN = "no code writes it yet: whoever makes it writable names its check here"
RUN_ID, MODEL_ID = v.MAX_RUN_ID, v.MAX_MODEL_ID  # the ids Heron makes, and references to them
SPAN_ID = 16  # trace_checks.SPAN_ID: 16 hex digits

# column -> its guard: a limit checked on input, the enum (or names) stored there, or why
# nothing from the wire reaches it
GUARDS: dict[str, int | type[enum.Enum] | tuple[str, ...] | str] = {
    "experiments.experiment_id": ids.MAX_EXPERIMENT_ID,
    "experiments.name": v.MAX_EXPERIMENT_NAME,
    "experiments.lifecycle_stage": LifecycleStage,
    "experiments.workspace": workspaces.MAX_NAME,
    "experiment_tags.experiment_id": ids.MAX_EXPERIMENT_ID,
    "experiment_tags.key": v.MAX_ENTITY_KEY,
    "runs.run_uuid": RUN_ID,
    "runs.experiment_id": ids.MAX_EXPERIMENT_ID,
    "runs.name": v.MAX_RUN_NAME,
    "runs.user_id": v.MAX_USER_ID,
    "runs.status": RunStatus,
    "runs.lifecycle_stage": LifecycleStage,
    "params.run_uuid": RUN_ID,
    "params.key": v.MAX_ENTITY_KEY,
    "tags.run_uuid": RUN_ID,
    "tags.key": v.MAX_ENTITY_KEY,
    "metrics.run_uuid": RUN_ID,
    "metrics.key": v.MAX_ENTITY_KEY,
    "latest_metrics.run_uuid": RUN_ID,
    "latest_metrics.key": v.MAX_ENTITY_KEY,
    "latest_metrics.experiment_id": ids.MAX_EXPERIMENT_ID,
    "datasets.dataset_uuid": MADE,
    "datasets.experiment_id": ids.MAX_EXPERIMENT_ID,
    "datasets.name": v.MAX_DATASET_NAME,
    "datasets.digest": v.MAX_DATASET_DIGEST,
    "datasets.source_type": v.MAX_DATASET_SOURCE_TYPE,
    "run_inputs.run_uuid": RUN_ID,
    "run_inputs.dataset_uuid": MADE,
    "run_input_tags.run_uuid": RUN_ID,
    "run_input_tags.dataset_uuid": MADE,
    "run_input_tags.key": v.MAX_INPUT_TAG_KEY,
    "run_input_tags.value": v.MAX_INPUT_TAG_VALUE,
    "logged_models.model_id": MODEL_ID,
    "logged_models.experiment_id": ids.MAX_EXPERIMENT_ID,
    "logged_models.name": logged_models.MAX_MODEL_NAME,
    "logged_models.status": LoggedModelStatus,
    "logged_models.lifecycle_stage": LifecycleStage,
    "logged_models.model_type": logged_models.MAX_MODEL_TYPE,
    "logged_models.source_run_id": RUN_ID,
    "logged_model_params.model_id": MODEL_ID,
    "logged_model_params.key": v.MAX_ENTITY_KEY,
    "logged_model_tags.model_id": MODEL_ID,
    "logged_model_tags.key": v.MAX_ENTITY_KEY,
    "logged_model_metrics.model_id": MODEL_ID,
    "logged_model_metrics.key": v.MAX_ENTITY_KEY,
    "logged_model_metrics.dataset_name": v.MAX_DATASET_NAME,
    "logged_model_metrics.dataset_digest": v.MAX_DATASET_DIGEST,
    "logged_model_metrics.run_uuid": RUN_ID,
    "run_model_outputs.run_uuid": RUN_ID,
    "run_model_outputs.model_id": MODEL_ID,
    "run_model_inputs.run_uuid": RUN_ID,
    "run_model_inputs.model_id": MODEL_ID,
    "registered_models.registered_model_id": MADE,
    "registered_models.name": registry_rules.MAX_MODEL_NAME,
    "registered_models.user_id": v.MAX_USER_ID,
    "registered_models.last_version": ids.MAX_MODEL_VERSION,
    "registered_models.deployment_job_id": registry.MAX_JOB_ID,
    "registered_models.workspace": workspaces.MAX_NAME,
    "registered_model_tags.registered_model_id": MADE,
    "registered_model_tags.key": v.MAX_ENTITY_KEY,
    "model_versions.registered_model_id": MADE,
    "model_versions.version": ids.MAX_MODEL_VERSION,
    "model_versions.user_id": v.MAX_USER_ID,
    "model_versions.current_stage": ModelVersionStage,
    "model_versions.run_id": RUN_ID,
    "model_versions.model_id": MODEL_ID,
    "model_versions.status": ModelVersionStatus,
    "model_version_tags.registered_model_id": MADE,
    "model_version_tags.version": ids.MAX_MODEL_VERSION,
    "model_version_tags.key": v.MAX_ENTITY_KEY,
    "registered_model_aliases.registered_model_id": MADE,
    "registered_model_aliases.alias": registry_rules.MAX_ALIAS,
    "registered_model_aliases.version": ids.MAX_MODEL_VERSION,
    "model_version_events.event_id": MADE,
    "model_version_events.registered_model_id": MADE,
    "model_version_events.version": ids.MAX_MODEL_VERSION,
    "model_version_events.user_id": v.MAX_USER_ID,
    "model_version_events.kind": EVENTS,
    "registry_catalogs.name": registry_namespaces.MAX_PART,
    "registry_catalogs.owner": v.MAX_USER_ID,
    "registry_schemas.catalog_name": registry_namespaces.MAX_PART,
    "registry_schemas.name": registry_namespaces.MAX_PART,
    "registry_schemas.owner": v.MAX_USER_ID,
    "webhooks.webhook_id": MADE,
    "webhooks.name": registry_webhooks.MAX_NAME,
    "webhooks.status": WebhookStatus,
    "webhook_deliveries.delivery_id": MADE,
    "webhook_deliveries.attempt": ATTEMPTS,
    "webhook_deliveries.webhook_id": MADE,
    "webhook_deliveries.entity": EVENTS,
    "webhook_deliveries.action": EVENTS,
    "webhook_deliveries.status_code": HTTP_STATUS,
    "webhook_queue.delivery_id": MADE,
    "webhook_queue.webhook_id": MADE,
    "webhook_queue.entity": EVENTS,
    "webhook_queue.action": EVENTS,
    "webhook_queue.attempts": ATTEMPTS,
    "deployment_jobs.job_id": MADE,
    "deployment_jobs.name": deployment_jobs.MAX_NAME,
    "deployment_jobs.latest_version": ATTEMPTS,
    "deployment_jobs.created_by": v.MAX_USER_ID,
    "deployment_job_versions.job_id": MADE,
    "deployment_job_versions.version": ATTEMPTS,
    "deployment_job_versions.created_by": v.MAX_USER_ID,
    "deployment_job_runs.run_id": MADE,
    "deployment_job_runs.job_id": MADE,
    "deployment_job_runs.job_version": ATTEMPTS,
    "deployment_job_runs.registered_model_id": MADE,
    "deployment_job_runs.version": ids.MAX_MODEL_VERSION,
    "deployment_job_runs.state": RunState,
    "deployment_job_runs.current_task": deployment_job_specs.MAX_TASK_NAME,
    "deployment_job_runs.started_by": v.MAX_USER_ID,
    "deployment_task_runs.run_id": MADE,
    "deployment_task_runs.task_index": ATTEMPTS,
    "deployment_task_runs.name": deployment_job_specs.MAX_TASK_NAME,
    "deployment_task_runs.kind": TaskKind,
    "deployment_task_runs.state": TaskState,
    "deployment_task_runs.attempts": ATTEMPTS,
    "work_queue.item_id": MADE,
    "work_queue.kind": MADE,
    "work_queue.subject": MADE,
    "work_queue.claims": ATTEMPTS,
    "work_queue.failures": ATTEMPTS,
    "work_queue.lease_owner": MADE,
    "traces.trace_id": traces.MAX_TRACE_ID,
    "traces.experiment_id": ids.MAX_EXPERIMENT_ID,
    "traces.client_request_id": traces.MAX_REQUEST_ID,
    "traces.state": TraceState,
    "trace_tags.trace_id": traces.MAX_TRACE_ID,
    "trace_tags.key": traces.MAX_TRACE_TAG_KEY,
    "trace_metadata.trace_id": traces.MAX_TRACE_ID,
    "trace_metadata.key": traces.MAX_TRACE_TAG_KEY,
    "trace_run_links.trace_id": traces.MAX_TRACE_ID,
    "trace_run_links.run_id": RUN_ID,
    "spans.trace_id": traces.MAX_TRACE_ID,
    "spans.span_id": SPAN_ID,
    "spans.parent_span_id": SPAN_ID,
    "spans.span_type": traces.MAX_SPAN_TYPE,
    "spans.status": SpanStatusCode,
    "evaluation_datasets.dataset_id": datasets.MAX_DATASET_ID,
    "evaluation_datasets.name": datasets.MAX_NAME,
    "evaluation_datasets.digest": MADE,
    "evaluation_dataset_experiments.dataset_id": datasets.MAX_DATASET_ID,
    "evaluation_dataset_experiments.experiment_id": ids.MAX_EXPERIMENT_ID,
    "evaluation_dataset_records.dataset_record_id": MADE,
    "evaluation_dataset_records.dataset_id": datasets.MAX_DATASET_ID,
    "evaluation_dataset_records.input_hash": MADE,
    "evaluation_datasets.version": datasets.MAX_VERSION,
    "evaluation_dataset_versions.dataset_id": datasets.MAX_DATASET_ID,
    "evaluation_dataset_versions.version": datasets.MAX_VERSION,
    "evaluation_dataset_versions.digest": MADE,
    "evaluation_dataset_record_versions.dataset_record_id": MADE,
    "evaluation_dataset_record_versions.dataset_id": datasets.MAX_DATASET_ID,
    "evaluation_dataset_record_versions.first_version": datasets.MAX_VERSION,
    "evaluation_dataset_record_versions.last_version": datasets.MAX_VERSION,
    "judge_cache.cache_key": judge_cache.KEY_LENGTH,
    "judge_cache.scorer_digest": judge_cache.KEY_LENGTH,
    "judge_cache.model": judge_cache.MAX_MODEL,
    "judge_limits.endpoint_key": judge_limits.KEY_LENGTH,
    "registered_scorers.scorer_version_id": MADE,
    "registered_scorers.scorer_id": MADE,
    "registered_scorers.experiment_id": ids.MAX_EXPERIMENT_ID,
    "registered_scorers.name": scorers.MAX_NAME,
    "registered_scorers.version": scorers.INT32_MAX,
    "online_scoring_configs.config_id": MADE,
    "online_scoring_configs.scorer_id": MADE,
    "online_scoring_configs.experiment_id": ids.MAX_EXPERIMENT_ID,
    "label_schemas.schema_id": MADE,
    "label_schemas.experiment_id": ids.MAX_EXPERIMENT_ID,
    "label_schemas.name": label_schemas.MAX_NAME,
    "label_schemas.type": LabelSchemaType,
    "label_schemas.created_by": label_schemas.MAX_USER,
    "review_queues.queue_id": MADE,
    "review_queues.experiment_id": ids.MAX_EXPERIMENT_ID,
    "review_queues.name": review_queues.MAX_NAME,
    "review_queues.queue_type": ReviewQueueType,
    "review_queues.created_by": review_queues.MAX_USER,
    "review_queue_users.queue_id": MADE,
    "review_queue_users.user_name": review_queues.MAX_USER,
    "review_queue_users.position": review_queues.MAX_USERS,
    "review_queue_schemas.queue_id": MADE,
    "review_queue_schemas.schema_id": review_queues.MAX_SCHEMA_ID,
    "review_queue_schemas.position": ATTEMPTS,
    "review_queue_items.queue_id": MADE,
    "review_queue_items.item_id": review_queues.MAX_ITEM_ID,
    "review_queue_items.item_type": ReviewItemType,
    "review_queue_items.position": ATTEMPTS,
    "review_queue_items.status": ReviewStatus,
    "review_queue_items.completed_by": review_queues.MAX_USER,
    "assessments.assessment_id": MADE,
    "assessments.trace_id": traces.MAX_TRACE_ID,
    "assessments.name": traces.MAX_ASSESSMENT_NAME,
    "assessments.kind": AssessmentKind,
    "assessments.span_id": SPAN_ID,
    "assessments.source_type": tuple(  # trace_checks refuses SOURCE_TYPE_UNSPECIFIED
        t.value for t in AssessmentSourceType if t != AssessmentSourceType.SOURCE_TYPE_UNSPECIFIED
    ),
    "assessments.source_id": traces.MAX_SOURCE_ID,
    "assessments.overrides": traces.MAX_ASSESSMENT_ID,
    # the GenAI views' copies (0015, 0020): only values that fit are copied (traces_derived)
    "assessments.model_id": traces_derived.MAX_INDEXED,
    "spans.experiment_id": ids.MAX_EXPERIMENT_ID,
    "assessments.experiment_id": ids.MAX_EXPERIMENT_ID,
    # a trace's session and model ids: longer ones are not indexed (left NULL)
    "traces.session_id": traces_derived.MAX_INDEXED,
    "traces.model_id": traces_derived.MAX_INDEXED,
    "traces.user_id": traces_derived.MAX_INDEXED,
    # the overview's hourly rollups (0025): copies of the columns they add up
    "trace_rollup_hours.experiment_id": ids.MAX_EXPERIMENT_ID,
    "trace_rollups.experiment_id": ids.MAX_EXPERIMENT_ID,
    "trace_rollups.model_id": traces_derived.MAX_INDEXED,
    "trace_rollups.span_type": traces.MAX_SPAN_TYPE,
    "trace_rollup_scores.experiment_id": ids.MAX_EXPERIMENT_ID,
    "trace_rollup_scores.model_id": traces_derived.MAX_INDEXED,
    "trace_rollup_scores.span_type": traces.MAX_SPAN_TYPE,
    "trace_rollup_scores.name": traces.MAX_ASSESSMENT_NAME,
    "trace_rollup_tools.experiment_id": ids.MAX_EXPERIMENT_ID,
    "trace_rollup_tools.model_id": traces_derived.MAX_INDEXED,
    "trace_rollup_tools.span_type": traces.MAX_SPAN_TYPE,
    "trace_rollup_cuts.experiment_id": ids.MAX_EXPERIMENT_ID,  # labels (0031)
    # security: principals are named (principals.check_name), Heron numbers them
    "principals.principal_id": MADE,
    "principals.kind": PrincipalKind,
    "principals.name": principals.MAX_NAME,
    "principals.display_name": UNWRITTEN,
    "principals.failed_logins": ATTEMPTS,
    "group_members.group_id": MADE,
    "group_members.member_id": MADE,
    "group_members.source": ("admin", "idp"),  # SqlGroupStore: added by an admin, or by login
    # access tokens: Heron makes the id and hash; the name is checked, the scopes are known
    "access_tokens.token_id": MADE,
    "access_tokens.principal_id": MADE,
    "access_tokens.secret_hash": MADE,
    "access_tokens.scopes": (" ".join(tokens.SCOPES),),  # token_service.check_scopes
    # grants: the securable id is checked, the caller's name cut to a principal's
    "grants.grant_id": MADE,
    "grants.principal_id": MADE,
    "grants.privilege": Privilege,
    "grants.securable_type": SecurableType,
    "grants.securable_id": grant_service.MAX_SECURABLE_ID,
    "grants.created_by": principals.MAX_NAME,
    # MLflow's roles (mlflow_permissions): named, their permissions MLflow's vocabulary
    "roles.role_id": MADE,
    "roles.name": principals.MAX_NAME,
    "roles.workspace": mlflow_permissions.MAX_WORKSPACE,
    "role_permissions.permission_id": MADE,
    "role_permissions.role_id": MADE,  # SqlRoleStore finds the role first
    "role_permissions.resource_type": tuple(mlflow_permissions.RESOURCE_TYPES),
    "role_permissions.resource_pattern": grant_service.MAX_SECURABLE_ID,
    "role_permissions.permission": mlflow_permissions.PERMISSIONS,
    "role_assignments.assignment_id": MADE,
    "role_assignments.role_id": MADE,
    "role_assignments.principal_id": MADE,
    "workspaces.name": workspaces.MAX_NAME,
    # browser sessions, the security state's named counters, and the audit log (cut to fit)
    "sessions.session_hash": MADE,
    "sessions.principal_id": MADE,
    "sessions.csrf_token": MADE,
    "security_state.name": ("epoch", "token_key", "audit_head"),  # its only rows
    "audit_log.principal": audit.MAX_PRINCIPAL,
    "audit_log.address": audit.MAX_ADDRESS,
    "audit_log.request_id": audit.MAX_REQUEST_ID,
    "audit_log.action": audit.MAX_ACTION,
    "audit_log.object_type": audit.MAX_OBJECT_TYPE,
    "audit_log.count": ATTEMPTS,
    "audit_log.prev_hash": MADE,
    "audit_log.hash": MADE,
    # serving endpoints: names checked by serving_endpoints; Heron numbers the configurations
    "serving_endpoints.endpoint_id": MADE,
    "serving_endpoints.name": serving.MAX_ENDPOINT_NAME,
    "serving_endpoints.config_version": ATTEMPTS,
    "serving_endpoint_configs.endpoint_id": MADE,
    "serving_endpoint_configs.config_version": ATTEMPTS,
    # replicas: what `heron serving worker` reports of itself (report_replica checks its id
    # and URL, which come from its command line)
    "serving_replicas.replica_id": serving.MAX_REPLICA_ID,
    "serving_replicas.endpoint_id": MADE,
    "serving_replicas.url": serving.MAX_REPLICA_URL,
    "serving_replicas.token": MADE,
    "serving_replicas.state": ReplicaState,
    "serving_replicas.config_version": ATTEMPTS,
    "serving_replicas.host": MADE,  # socket.gethostname(): at most 64 characters
    "serving_replicas.pid": MADE,
    # the inference tables: the entity and version that answered are what the replica
    # serves (a checked served-entity name, a model version number)
    "inference_records.request_id": MADE,
    "inference_records.endpoint_id": MADE,
    "inference_records.endpoint_name": serving.MAX_ENDPOINT_NAME,
    "inference_records.request_date": MADE,
    "inference_records.client_request_id": inference.MAX_CLIENT_REQUEST_ID,
    "inference_records.status_code": HTTP_STATUS,
    "inference_records.served_entity_id": serving.MAX_ENTITY_NAME,
    "inference_records.served_version": MADE,
    "inference_records.trace_id": MADE,  # the replica's tracing makes it
    "serving_stats.endpoint_id": MADE,
    "serving_stats.served_entity": serving.MAX_ENTITY_NAME,
    "serving_stats.served_version": MADE,
    "serving_stats.writer_id": MADE,
    "serving_stats.requests": ATTEMPTS,
    "serving_stats.errors_4xx": ATTEMPTS,
    "serving_stats.errors_5xx": ATTEMPTS,
    "serving_stats.shadow_requests": ATTEMPTS,
    "serving_stats.shadow_agreed": ATTEMPTS,
    "serving_stats.shadow_errors": ATTEMPTS,
    "serving_stats.capture_dropped": ATTEMPTS,
    # drift reports: the method is checked, the rows counted (current: at most MAX_CURRENT)
    "drift_reports.endpoint_id": MADE,
    "drift_reports.method": drift.METHODS,
    "drift_reports.reference_rows": ATTEMPTS,
    "drift_reports.current_rows": drift.MAX_CURRENT,
}


def _bounded_columns() -> dict[str, int]:
    """Each varchar column's width, each 32-bit integer column's largest value."""
    found = {}
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, String) and column.type.length:
                found[f"{table.name}.{column.name}"] = column.type.length
            elif isinstance(column.type, Integer) and not isinstance(column.type, BigInteger):
                found[f"{table.name}.{column.name}"] = 2**31 - 1
    return found


COLUMNS = _bounded_columns()


def test_every_bounded_column_names_its_guard() -> None:
    assert sorted(set(COLUMNS) - set(GUARDS)) == [], "add the new columns' guards above"
    assert sorted(set(GUARDS) - set(COLUMNS)) == [], "remove the guards of columns now gone"


@pytest.mark.parametrize("column", sorted(COLUMNS))
def test_no_guard_lets_through_more_than_its_column_holds(column: str) -> None:
    guard, limit = GUARDS[column], COLUMNS[column]
    if isinstance(guard, int):
        assert guard <= limit, f"{column} holds {limit}, its guard lets {guard} through"
    elif isinstance(guard, type | tuple):
        names = [str(m.value) for m in guard] if isinstance(guard, type) else list(guard)
        widest = max(names, key=len)
        assert len(widest) <= limit, f"{column} holds {limit} characters, not {widest!r}"
    else:
        assert guard in (MADE, EVENTS, HTTP_STATUS, ATTEMPTS, UNWRITTEN)


def test_the_ids_the_wire_names_are_read_against_their_columns() -> None:
    """store.ids' limits are those of the columns (one place for every service and store)."""
    assert COLUMNS["experiments.experiment_id"] == ids.MAX_EXPERIMENT_ID
    assert COLUMNS["model_versions.version"] == ids.MAX_MODEL_VERSION
