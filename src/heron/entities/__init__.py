"""Frozen dataclasses of the domain; no I/O."""

from heron.entities.artifact import FileInfo
from heron.entities.dataset import Dataset, DatasetInput, DatasetSummary, InputTag
from heron.entities.experiment import Experiment, LifecycleStage, ViewType
from heron.entities.logged_model import (
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelRegistration,
    LoggedModelStatus,
)
from heron.entities.page import Page
from heron.entities.run import (
    JsonKeyValues,
    JsonMetrics,
    Metric,
    MetricColumns,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)

__all__ = [
    "Dataset",
    "DatasetInput",
    "DatasetSummary",
    "Experiment",
    "FileInfo",
    "InputTag",
    "JsonKeyValues",
    "JsonMetrics",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelMetric",
    "LoggedModelOutput",
    "LoggedModelRegistration",
    "LoggedModelStatus",
    "Metric",
    "MetricColumns",
    "Page",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "ViewType",
]
