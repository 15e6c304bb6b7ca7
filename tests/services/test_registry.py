"""Registry rules, run against SQLite and PostgreSQL through the real stores."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from heron import mlflow_json
from heron.entities.registry import ModelVersion, ModelVersionRecords, ModelVersionStage
from heron.errors import AlreadyExists, InvalidParameter, NotFound
from heron.services import RunService
from heron.services.registry import RegistryService

ROOT = "mlflow-artifacts:"


@pytest.fixture
def registry(stores: Any) -> RegistryService:
    from heron.services import AllowAll

    return RegistryService(
        stores.registered_models,
        stores.model_versions,
        stores.model_sources,
        AllowAll(),
        artifact_roots=(ROOT,),
    )


def _version(registry: RegistryService, name: str, path: str = "m") -> str:
    return registry.create_model_version(name, f"{ROOT}/0/files/{path}").version


def test_create_get_and_duplicate(registry: RegistryService) -> None:
    created = registry.create_registered_model("fraud", tags={"team": "risk"}, description="d")
    assert (created.name, created.tags, created.description) == ("fraud", {"team": "risk"}, "d")
    assert registry.get_registered_model("fraud").creation_timestamp == created.creation_timestamp
    with pytest.raises(AlreadyExists):
        registry.create_registered_model("fraud")
    with pytest.raises(NotFound):
        registry.get_registered_model("nope")


@pytest.mark.parametrize(
    "name",
    ["", " ", "a/b", "a:b", "x" * 257, "..", "m-0123456789abcdef0123456789abcdef", "a\x00b", "a@b"],
    ids=["empty", "blank", "slash", "colon", "too-long", "dots", "model-id", "nul", "at"],
)
def test_bad_model_names_are_invalid(registry: RegistryService, name: str) -> None:
    with pytest.raises(InvalidParameter):
        registry.create_registered_model(name)


def test_versions_count_up_and_are_never_reused(registry: RegistryService) -> None:
    registry.create_registered_model("m")
    assert [_version(registry, "m") for _ in range(3)] == ["1", "2", "3"]
    registry.delete_model_version("m", "3")
    with pytest.raises(NotFound):
        registry.get_model_version("m", "3")
    assert _version(registry, "m") == "4"


def test_create_version_of_missing_model_is_not_found(registry: RegistryService) -> None:
    with pytest.raises(NotFound):
        registry.create_model_version("ghost", f"{ROOT}/0/x")


def test_runs_source_resolves_to_the_runs_artifacts(
    registry: RegistryService, runs: RunService
) -> None:
    run = runs.create_run("0")
    registry.create_registered_model("m")
    version = registry.create_model_version("m", f"runs:/{run.info.run_id}/model")
    assert version.run_id == run.info.run_id
    assert version.source == f"runs:/{run.info.run_id}/model"
    assert registry.get_model_version_download_uri("m", "1") == f"{run.info.artifact_uri}/model"


@pytest.mark.parametrize(
    "source",
    [
        "/etc/passwd",
        "file:///etc",
        f"{ROOT}/0/../../etc",
        "runs:/abc/../../x",
        "s3://other/x",
        "models:/m-0123456789abcdef0123456789abcdef",
        "runs:/nosuchrun/m",
        "http://169.254.169.254/",
    ],
    ids=[
        "path",
        "file",
        "dotdot",
        "runs-dotdot",
        "foreign-s3",
        "missing-model",
        "missing-run",
        "http",
    ],
)
def test_sources_outside_the_roots_are_refused(registry: RegistryService, source: str) -> None:
    registry.create_registered_model("m")
    with pytest.raises(InvalidParameter):
        registry.create_model_version("m", source)


@pytest.mark.parametrize("source", ["dummy-source", "prompt-template"])
def test_a_prompt_versions_placeholder_source_is_taken(
    registry: RegistryService, source: str
) -> None:
    # MLflow compat: mlflow.genai.register_prompt sends "dummy-source" as the source.
    registry.create_registered_model("greeting", tags={"mlflow.prompt.is_prompt": "true"})
    version = registry.create_model_version(
        "greeting", source, tags={"mlflow.prompt.text": "Hello {{name}}!"}
    )
    assert (version.source, version.storage_location) == (source, "")


def test_aliases_move_and_resolve_at_once(registry: RegistryService) -> None:
    registry.create_registered_model("m")
    _version(registry, "m", "a")
    _version(registry, "m", "b")
    registry.set_registered_model_alias("m", "champion", "1")
    registry.set_registered_model_alias("m", "stable", "1")
    assert registry.get_model_version("m", "1").aliases == ("champion", "stable")
    registry.set_registered_model_alias("m", "champion", "2")
    assert registry.get_model_version_by_alias("m", "champion").version == "2"
    assert registry.get_registered_model("m").aliases == {"champion": "2", "stable": "1"}
    registry.delete_registered_model_alias("m", "champion")
    with pytest.raises(NotFound):
        registry.get_model_version_by_alias("m", "champion")
    with pytest.raises(NotFound):
        registry.set_registered_model_alias("m", "x", "9")


@pytest.mark.parametrize(
    "alias",
    ["", "latest", "LATEST", "v1", "V12", "a b", "a/b", "x" * 256],
    ids=["empty", "latest", "latest-upper", "v1", "V12", "space", "slash", "too-long"],
)
def test_bad_aliases_are_invalid(registry: RegistryService, alias: str) -> None:
    registry.create_registered_model("m")
    _version(registry, "m")
    with pytest.raises(InvalidParameter):
        registry.set_registered_model_alias("m", alias, "1")


def test_deleting_a_version_drops_its_aliases(registry: RegistryService) -> None:
    registry.create_registered_model("m")
    _version(registry, "m")
    registry.set_registered_model_alias("m", "champion", "1")
    registry.delete_model_version("m", "1")
    assert registry.get_registered_model("m").aliases == {}


def test_delete_model_takes_versions_tags_and_aliases(registry: RegistryService) -> None:
    registry.create_registered_model("m", tags={"a": "b"})
    _version(registry, "m")
    registry.set_registered_model_alias("m", "champion", "1")
    registry.delete_registered_model("m")
    with pytest.raises(NotFound):
        registry.get_registered_model("m")
    registry.create_registered_model("m")
    assert registry.get_registered_model("m").tags == {}
    assert _version(registry, "m") == "1"


def test_rename_moves_versions(registry: RegistryService) -> None:
    registry.create_registered_model("old")
    registry.create_registered_model("taken")
    _version(registry, "old")
    with pytest.raises(AlreadyExists):
        registry.rename_registered_model("old", "taken")
    registry.rename_registered_model("old", "new")
    assert registry.get_model_version("new", "1").name == "new"
    with pytest.raises(NotFound):
        registry.get_registered_model("old")


def test_tags_set_and_delete(registry: RegistryService) -> None:
    registry.create_registered_model("m")
    _version(registry, "m")
    registry.set_registered_model_tag("m", "k", "v")
    registry.set_registered_model_tag("m", "k", "w")
    registry.set_model_version_tag("m", "1", "ok", "yes")
    assert registry.get_registered_model("m").tags == {"k": "w"}
    assert registry.get_model_version("m", "1").tags == {"ok": "yes"}
    registry.delete_registered_model_tag("m", "k")
    registry.delete_model_version_tag("m", "1", "ok")
    assert registry.get_model_version("m", "1").tags == {}
    with pytest.raises(NotFound):
        registry.delete_model_version_tag("m", "1", "ok")
    with pytest.raises(InvalidParameter):
        registry.set_model_version_tag("m", "1", "k", "x" * 100_001)


def test_legacy_stages_and_latest_versions(registry: RegistryService) -> None:
    registry.create_registered_model("m")
    for _ in range(3):
        _version(registry, "m")
    assert [v.version for v in registry.get_latest_versions("m")] == ["3"]
    registry.transition_model_version_stage("m", "1", "production")
    registry.transition_model_version_stage("m", "2", "Production", archive_existing_versions=True)
    assert registry.get_model_version("m", "1").current_stage is ModelVersionStage.ARCHIVED
    latest = registry.get_latest_versions("m", ["Production"])
    assert [(v.version, v.current_stage) for v in latest] == [("2", ModelVersionStage.PRODUCTION)]
    stages = {
        v.current_stage: v.version for v in registry.get_registered_model("m").latest_versions
    }
    assert stages == {
        ModelVersionStage.ARCHIVED: "1",
        ModelVersionStage.PRODUCTION: "2",
        ModelVersionStage.NONE: "3",
    }
    with pytest.raises(InvalidParameter):
        registry.transition_model_version_stage("m", "1", "Shipping")


def test_search_models_filter_order_and_pages(registry: RegistryService) -> None:
    for name in ("b-2", "a-1", "c-3", "other"):
        registry.create_registered_model(name, tags={"kind": "even" if "2" in name else "odd"})
    found = registry.search_registered_models(filter_string="name LIKE '%-%'")
    assert [m.name for m in found] == ["a-1", "b-2", "c-3"]
    found = registry.search_registered_models(filter_string="tags.kind = 'even'")
    assert [m.name for m in found] == ["b-2"]
    found = registry.search_registered_models(order_by=["name DESC"])
    assert [m.name for m in found] == ["other", "c-3", "b-2", "a-1"]
    names, token = [], None
    while True:
        page = registry.search_registered_models(max_results=3, page_token=token)
        names += [m.name for m in page]
        token = page.next_page_token
        if not token:
            break
    assert names == ["a-1", "b-2", "c-3", "other"]
    with pytest.raises(InvalidParameter):
        registry.search_registered_models(
            filter_string="name LIKE 'x%'", page_token=page.next_page_token or "garbage"
        )
    with pytest.raises(InvalidParameter):
        registry.search_registered_models(filter_string="metrics.x > 1")
    with pytest.raises(InvalidParameter):
        registry.search_registered_models(max_results=1001)


def test_search_leaves_prompts_out_unless_asked(registry: RegistryService) -> None:
    registry.create_registered_model("model")
    registry.create_registered_model("prompt", tags={"mlflow.prompt.is_prompt": "true"})
    assert [m.name for m in registry.search_registered_models()] == ["model"]
    asked = registry.search_registered_models(
        filter_string="tags.`mlflow.prompt.is_prompt` = 'true'"
    )
    assert [m.name for m in asked] == ["prompt"]
    # MLflow compat: the mlflow client adds this clause to every search
    models = registry.search_registered_models(
        filter_string="name LIKE '%' AND tag.`mlflow.prompt.is_prompt` != 'true'"
    )
    assert [m.name for m in models] == ["model"]


def test_search_versions(registry: RegistryService, runs: RunService) -> None:
    run = runs.create_run("0")
    registry.create_registered_model("a")
    registry.create_registered_model("b")
    _version(registry, "a")
    registry.create_model_version("a", f"runs:/{run.info.run_id}/m")
    registry.create_model_version("b", f"{ROOT}/0/b", tags={"t": "1"})
    found = registry.search_model_versions(filter_string=f"run_id = '{run.info.run_id}'")
    assert [(v.name, v.version) for v in found] == [("a", "2")]
    found = registry.search_model_versions(
        filter_string="name = 'a' AND version_number >= 1", order_by=["version_number ASC"]
    )
    assert [v.version for v in found] == ["1", "2"]
    found = registry.search_model_versions(filter_string="tags.t = '1'")
    assert [(v.name, v.version) for v in found] == [("b", "1")]
    found = registry.search_model_versions(filter_string="source_path LIKE '%/0/b'")
    assert [v.name for v in found] == ["b"]
    seen, token = [], None
    while True:
        page = registry.search_model_versions(max_results=2, page_token=token)
        seen += [(v.name, v.version) for v in page]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == [("a", "1"), ("a", "2"), ("b", "1")]


def test_activity_log_in_time_order(registry: RegistryService) -> None:
    registry.create_registered_model("m")
    _version(registry, "m")
    _version(registry, "m")
    registry.set_registered_model_alias("m", "champion", "1")
    registry.set_model_version_tag("m", "1", "k", "v")
    registry.set_registered_model_alias("m", "champion", "2")
    registry.add_model_version_comment("m", "1", "looks good")
    registry.update_model_version("m", "1", description="first")
    kinds = [e.kind for e in registry.list_model_version_activity("m", "1")]
    assert kinds == [
        "created",
        "alias_set",
        "tag_set",
        "alias_moved_away",
        "comment",
        "description_updated",
    ]
    events = registry.list_model_version_activity("m", "1")
    assert events[4].detail == {"comment": "looks good"}
    assert all(e.user_id for e in events)
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)
    with pytest.raises(InvalidParameter):
        registry.add_model_version_comment("m", "1", " ")
    with pytest.raises(NotFound):
        registry.list_model_version_activity("m", "9")


def test_concurrent_registrations_get_distinct_gapless_versions(registry: RegistryService) -> None:
    registry.create_registered_model("busy")
    barrier = threading.Barrier(20)

    def register(i: int) -> str:
        barrier.wait()
        return registry.create_model_version("busy", f"{ROOT}/0/files/{i}").version

    with ThreadPoolExecutor(max_workers=20) as pool:
        versions = list(pool.map(register, range(20)))
    assert sorted(int(v) for v in versions) == list(range(1, 21))
    found = registry.search_model_versions(filter_string="name = 'busy'")
    assert sorted(int(v.version) for v in found) == list(range(1, 21))


def test_lineage_follows_model_run_datasets_and_experiment(
    stores: Any, runs: RunService, experiments: Any
) -> None:
    from heron.entities import Dataset, DatasetInput, InputTag
    from heron.services import AllowAll
    from heron.services.logged_models import LoggedModelService

    registry = RegistryService(
        stores.registered_models,
        stores.model_versions,
        stores.model_sources,
        AllowAll(),
        artifact_roots=(ROOT,),
        runs=stores.runs,
        experiments=stores.experiments,
    )
    experiment_id = experiments.create_experiment("lineage")
    run = runs.create_run(experiment_id)
    train = Dataset(name="train", digest="abc", source_type="local", source="{}")
    runs.log_inputs(
        run.info.run_id,
        [DatasetInput(dataset=train, tags=[InputTag(key="mlflow.data.context", value="training")])],
    )
    logged = LoggedModelService(stores.logged_models, stores.experiments, AllowAll())
    model = logged.create_logged_model(experiment_id, name="clf", source_run_id=run.info.run_id)
    registry.create_registered_model("fraud")
    version = registry.create_model_version("fraud", f"models:/{model.model_id}")
    assert (version.run_id, version.model_id) == (run.info.run_id, model.model_id)

    chain = registry.get_model_version_lineage("fraud", "1")
    assert chain.model_version.version == "1"
    assert chain.logged_model is not None
    assert (chain.logged_model.model_id, chain.logged_model.name) == (model.model_id, "clf")
    assert chain.run is not None
    assert chain.run.run_id == run.info.run_id
    assert [d.dataset.name for d in chain.dataset_inputs] == ["train"]
    assert chain.experiment is not None
    assert chain.experiment.name == "lineage"
    # the LoggedModel lists the versions registered from it
    tags = logged.get_logged_model(model.model_id).tags
    assert tags["mlflow.modelVersions"] == '[{"name": "fraud", "version": "1"}]'
    registry.create_registered_model("churn")
    registry.create_model_version("churn", f"models:/{model.model_id}")
    registrations = logged.get_logged_model(model.model_id).registrations
    assert [(r.name, r.version) for r in registrations] == [("churn", "1"), ("fraud", "1")]


def test_lineage_of_a_plain_uri_version_has_no_links(registry: RegistryService) -> None:
    registry.create_registered_model("m")
    _version(registry, "m")
    chain = registry.get_model_version_lineage("m", "1")
    assert (chain.logged_model, chain.run, chain.experiment) == (None, None, None)


def test_tampered_page_tokens_are_invalid_not_errors(registry: RegistryService) -> None:
    import base64

    import orjson

    for name in ("a", "b", "c"):
        registry.create_registered_model(name)
        _version(registry, name)
    page = registry.search_model_versions(max_results=1)
    assert page.next_page_token
    padded = page.next_page_token + "=" * (-len(page.next_page_token) % 4)
    fingerprint, values = orjson.loads(base64.urlsafe_b64decode(padded))
    too_big = [2**63 if type(v) is int else v for v in values]  # no BIGINT holds it
    nul = [v + "\x00" if type(v) is str else v for v in values]  # no PostgreSQL text holds it
    assert too_big != values
    assert nul != values
    swaps = ([str(v) for v in values], [*values[:-1], "x"], values[:-1], None, too_big, nul)
    for swapped in swaps:
        raw = orjson.dumps([fingerprint, swapped])
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        with pytest.raises(InvalidParameter, match="page_token"):
            registry.search_model_versions(max_results=1, page_token=token)


def test_a_page_of_records_is_a_list_of_versions(registry: RegistryService) -> None:
    for name in ("a", "b"):
        registry.create_registered_model(name)
        for n in range(3):
            registry.create_model_version(name, f"{ROOT}/0/{name}{n}", tags={"n": str(n)})
    registry.set_registered_model_alias("a", "champion", "2")
    registry.set_registered_model_alias("a", "backup", "2")
    registry.transition_model_version_stage("b", "1", "Production")
    page = registry.search_model_versions(order_by=["name", "version_number"])
    assert isinstance(page.items, ModelVersionRecords)
    versions = list(page)
    assert all(isinstance(v, ModelVersion) for v in versions)
    assert page.items == versions
    assert page.items[1:3] == versions[1:3]
    a2 = registry.get_model_version("a", "2")
    assert versions[1] == a2
    assert tuple(a2.aliases) == ("backup", "champion")
    assert dict(a2.tags) == {"n": "1"}
    assert versions[3].current_stage is ModelVersionStage.PRODUCTION
    assert mlflow_json.model_versions(page.items) == [mlflow_json.model_version(v) for v in page]


@pytest.mark.slow
def test_a_page_with_many_version_numbers_keeps_their_tags(
    registry: RegistryService,
) -> None:
    registry.create_registered_model("many")

    def create(n: int) -> None:
        registry.create_model_version("many", f"{ROOT}/0/{n}", tags={"n": str(n)})

    with ThreadPoolExecutor(8) as pool:  # concurrent writes share commits
        list(pool.map(create, range(1005)))  # more numbers than the tag query narrows by
    page = registry.search_model_versions(filter_string="name = 'many'")
    assert len(page) == 1005
    assert all(v.tags == {"n": v.source.rsplit("/", 1)[1]} for v in page)
