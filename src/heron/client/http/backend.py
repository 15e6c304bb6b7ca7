"""The HTTP backend: Heron's (or MLflow's) REST API, behind the same methods as the services."""

from __future__ import annotations

from heron.client.http.artifacts import HttpArtifacts
from heron.client.http.datasets import HttpDatasets, HttpJudgeCache, HttpScorers
from heron.client.http.deployment_jobs import HttpDeploymentJobs, HttpJobRuns
from heron.client.http.inference import HttpInference, HttpInvocations
from heron.client.http.judge_limits import HttpJudgeLimits
from heron.client.http.logged_models import HttpLoggedModels
from heron.client.http.namespaces import HttpNamespaces
from heron.client.http.registry import HttpRegistry
from heron.client.http.serving_endpoints import HttpEndpoints
from heron.client.http.traces import HttpTraces
from heron.client.http.tracking import HttpExperiments, HttpRuns
from heron.client.http.transport import Transport
from heron.client.http.webhooks import HttpWebhooks


class HttpBackend:
    """A tracking server at an `http(s)://` URI."""

    def __init__(self, uri: str) -> None:
        self._transport = Transport(uri)
        self._experiments = HttpExperiments(self._transport)
        self._runs = HttpRuns(self._transport)
        self._artifacts = HttpArtifacts(self._transport)
        self._registry = HttpRegistry(self._transport)
        self._logged_models = HttpLoggedModels(self._transport)
        self._traces = HttpTraces(self._transport)
        self._namespaces = HttpNamespaces(self._transport)
        self._webhooks = HttpWebhooks(self._transport)
        self._datasets = HttpDatasets(self._transport)
        self._judge_cache = HttpJudgeCache(self._transport)
        self._judge_limits = HttpJudgeLimits(self._transport)
        self._scorers = HttpScorers(self._transport)
        self._deployment_jobs = HttpDeploymentJobs(self._transport)
        self._job_runs = HttpJobRuns(self._transport)
        self._endpoints = HttpEndpoints(self._transport)
        self._inference = HttpInference(self._transport)
        self._invocations = HttpInvocations(self._transport)

    @property
    def experiments(self) -> HttpExperiments:
        return self._experiments

    @property
    def runs(self) -> HttpRuns:
        return self._runs

    @property
    def artifacts(self) -> HttpArtifacts:
        return self._artifacts

    @property
    def registry(self) -> HttpRegistry:
        return self._registry

    @property
    def logged_models(self) -> HttpLoggedModels:
        return self._logged_models

    @property
    def traces(self) -> HttpTraces:
        return self._traces

    @property
    def namespaces(self) -> HttpNamespaces:
        return self._namespaces

    @property
    def webhooks(self) -> HttpWebhooks:
        return self._webhooks

    @property
    def datasets(self) -> HttpDatasets:
        return self._datasets

    @property
    def judge_cache(self) -> HttpJudgeCache:
        return self._judge_cache

    @property
    def judge_limits(self) -> HttpJudgeLimits:
        return self._judge_limits

    @property
    def scorers(self) -> HttpScorers:
        return self._scorers

    @property
    def deployment_jobs(self) -> HttpDeploymentJobs:
        return self._deployment_jobs

    @property
    def job_runs(self) -> HttpJobRuns:
        return self._job_runs

    @property
    def endpoints(self) -> HttpEndpoints:
        return self._endpoints

    @property
    def inference(self) -> HttpInference:
        return self._inference

    @property
    def invocations(self) -> HttpInvocations:
        return self._invocations

    def close(self) -> None:
        self._transport.close()
