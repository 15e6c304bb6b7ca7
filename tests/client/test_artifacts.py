"""Run artifacts through HeronClient: one suite in process (data directory) and over HTTP."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from heron import HeronClient
from heron.entities import FileInfo
from heron.errors import InvalidParameter, NotFound

BINARY = bytes(range(256)) * 64 + b"\x00\r\n\x1a"


@pytest.fixture
def run_id(client: HeronClient) -> str:
    experiment_id = client.create_experiment(f"art-{uuid.uuid4().hex[:8]}")
    return client.create_run(experiment_id).info.run_id


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_logged_binary_file_lists_and_downloads_byte_for_byte(
    client: HeronClient, run_id: str, tmp_path: Path
) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(BINARY)

    client.log_artifact(run_id, source)

    assert client.list_artifacts(run_id) == [
        FileInfo(path="weights.bin", is_dir=False, file_size=len(BINARY))
    ]
    local = client.download_artifacts(run_id, "weights.bin", tmp_path / "out")
    assert local == str((tmp_path / "out" / "weights.bin").resolve())
    assert Path(local).read_bytes() == BINARY


def test_log_artifact_under_a_nested_artifact_path(
    client: HeronClient, run_id: str, tmp_path: Path
) -> None:
    source = tmp_path / "report.txt"
    source.write_text("hello")

    client.log_artifact(run_id, source, "reports/2024/final")

    assert client.list_artifacts(run_id) == [FileInfo(path="reports", is_dir=True)]
    assert client.list_artifacts(run_id, "reports/2024") == [
        FileInfo(path="reports/2024/final", is_dir=True)
    ]
    assert client.list_artifacts(run_id, "reports/2024/final") == [
        FileInfo(path="reports/2024/final/report.txt", is_dir=False, file_size=5)
    ]


def test_log_artifacts_uploads_a_nested_tree_and_download_brings_it_back(
    client: HeronClient, run_id: str, tmp_path: Path
) -> None:
    tree = tmp_path / "model"
    files = {
        "MLmodel": b"flavors: {}\n",
        "data/weights.bin": BINARY,
        "data/deep/er/leaf.txt": b"leaf",
        "name with spaces & 100%.txt": b"odd name",
        "empty.txt": b"",
    }
    for name, data in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(data)

    client.log_artifacts(run_id, tree, "model")

    listed = client.list_artifacts(run_id, "model")
    assert [(f.path, f.is_dir) for f in listed] == [
        ("model/MLmodel", False),
        ("model/data", True),
        ("model/empty.txt", False),
        ("model/name with spaces & 100%.txt", False),
    ]
    local = client.download_artifacts(run_id, "model", tmp_path / "out")
    assert local == str((tmp_path / "out" / "model").resolve())
    assert _tree(Path(local)) == files


def test_a_directory_of_thousands_of_files_lists_completely(
    client: HeronClient, run_id: str, tmp_path: Path
) -> None:
    # Written straight into the artifact store: uploading them one by one would be slow.
    home = tmp_path if client.tracking_uri.startswith("http") else Path(client.tracking_uri)
    run_root = client.get_artifact_uri(run_id).removeprefix("mlflow-artifacts:/")
    many = home / "artifacts" / run_root / "many"
    many.mkdir(parents=True)
    for i in range(2500):
        (many / f"f{i:05}").touch()

    listed = client.list_artifacts(run_id, "many")

    assert [f.path for f in listed] == [f"many/f{i:05}" for i in range(2500)]


def test_download_everything_with_no_path_into_a_temporary_directory(
    client: HeronClient, run_id: str
) -> None:
    client.log_text(run_id, "a", "one.txt")
    client.log_text(run_id, "b", "sub/two.txt")

    local = Path(client.download_artifacts(run_id))

    assert _tree(local) == {"one.txt": b"a", "sub/two.txt": b"b"}


def test_a_file_of_several_mebibytes_round_trips(
    client: HeronClient, run_id: str, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "big.bin").write_bytes(data)

    client.log_artifact(run_id, tmp_path / "big.bin", "blobs")

    local = client.download_artifacts(run_id, "blobs/big.bin", tmp_path / "out")
    assert Path(local).read_bytes() == data


def test_logging_a_file_again_replaces_it(client: HeronClient, run_id: str) -> None:
    client.log_text(run_id, "first", "notes.txt")
    client.log_text(run_id, "second", "notes.txt")

    assert client.load_text(f"runs:/{run_id}/notes.txt") == "second"


def test_log_text_and_load_text_by_runs_and_artifact_uris(client: HeronClient, run_id: str) -> None:
    client.log_text(run_id, "héron ✓\nline 2", "texts/note.md")
    artifact_uri = client.get_run(run_id).info.artifact_uri

    assert artifact_uri.startswith("mlflow-artifacts:/")
    assert client.load_text(f"runs:/{run_id}/texts/note.md") == "héron ✓\nline 2"
    assert client.load_text(f"{artifact_uri}/texts/note.md") == "héron ✓\nline 2"


@pytest.mark.parametrize("name", ["config.json", "config.yaml", "config.yml"])
def test_log_dict_writes_json_or_yaml_by_extension_and_loads_back(
    client: HeronClient, run_id: str, name: str
) -> None:
    config = {"lr": 0.01, "layers": [64, 32], "name": "résumé", "nested": {"on": True}}

    client.log_dict(run_id, config, name)

    text = client.load_text(f"runs:/{run_id}/{name}")
    parsed = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    assert parsed == config
    assert client.load_dict(f"runs:/{run_id}/{name}") == config


def test_log_table_from_a_dataframe_writes_mlflows_table_json(
    client: HeronClient, run_id: str
) -> None:
    frame = pd.DataFrame({"text": ["a", "b"], "score": [0.5, 1.0], "n": [1, 2]})

    client.log_table(run_id, frame, "eval/table.json")

    table = client.load_dict(f"runs:/{run_id}/eval/table.json")
    assert table == {"columns": ["text", "score", "n"], "data": [["a", 0.5, 1], ["b", 1.0, 2]]}
    logged = json.loads(client.get_run(run_id).data.tags["mlflow.loggedArtifacts"])
    assert logged == [{"path": "eval/table.json", "type": "table"}]


def test_log_table_from_a_dict_of_columns_appends_to_an_existing_table(
    client: HeronClient, run_id: str
) -> None:
    client.log_table(run_id, {"q": ["x"], "score": [np.float64(0.25)]}, "t.json")
    client.log_table(run_id, {"q": ["y"], "extra": [3]}, "t.json")

    assert client.load_dict(f"runs:/{run_id}/t.json") == {
        "columns": ["q", "score", "extra"],
        "data": [["x", 0.25, None], ["y", None, 3]],
    }


def test_log_table_refuses_columns_of_different_lengths(client: HeronClient, run_id: str) -> None:
    with pytest.raises(InvalidParameter, match="different lengths"):
        client.log_table(run_id, {"a": [1, 2], "b": [1]}, "t.json")


def test_log_image_from_numpy_round_trips_as_png(client: HeronClient, run_id: str) -> None:
    pytest.importorskip("PIL", reason="pillow is in the dev extra")
    pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    pixels[1, 2] = [255, 128, 7]

    client.log_image(run_id, pixels, "images/sample.png")

    raw = b"".join(
        client.backend.artifacts.read(client.get_artifact_uri(run_id), "images/sample.png")
    )
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    image = client.load_image(f"runs:/{run_id}/images/sample.png")
    assert image.size == (6, 4)
    assert np.array_equal(np.asarray(image), pixels)


def test_log_image_scales_floats_and_takes_pil_images(client: HeronClient, run_id: str) -> None:
    pil = pytest.importorskip("PIL.Image", reason="pillow is in the dev extra")
    client.log_image(run_id, np.array([[0.0, 1.0]]), "gray.png")
    client.log_image(run_id, pil.new("RGBA", (3, 2), (1, 2, 3, 4)), "rgba.png")

    gray = client.load_image(f"runs:/{run_id}/gray.png")
    rgba = client.load_image(f"runs:/{run_id}/rgba.png")
    assert np.asarray(gray).tolist() == [[0, 255]]
    assert rgba.mode == "RGBA"
    assert rgba.getpixel((2, 1)) == (1, 2, 3, 4)


def test_log_image_refuses_out_of_range_floats(client: HeronClient, run_id: str) -> None:
    pytest.importorskip("PIL", reason="pillow is in the dev extra")
    with pytest.raises(InvalidParameter, match=r"\[0, 1\]"):
        client.log_image(run_id, np.array([[2.0]]), "bad.png")


def test_log_image_without_pillow_names_the_missing_package(
    client: HeronClient, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)

    with pytest.raises(ModuleNotFoundError, match="pip install pillow"):
        client.log_image(run_id, np.zeros((2, 2)), "x.png")
    assert client.list_artifacts(run_id) == []


def test_log_figure_saves_a_matplotlib_figure_by_extension(
    client: HeronClient, run_id: str
) -> None:
    figure_module = pytest.importorskip("matplotlib.figure", reason="optional: matplotlib")
    figure = figure_module.Figure(figsize=(2, 2))
    figure.add_subplot().plot([1, 2, 3], [3, 1, 2])

    client.log_figure(run_id, figure, "plots/curve.png")
    client.log_figure(run_id, figure, "plots/curve.svg")

    png = b"".join(
        client.backend.artifacts.read(client.get_artifact_uri(run_id), "plots/curve.png")
    )
    assert png.startswith(b"\x89PNG")
    assert "<svg" in client.load_text(f"runs:/{run_id}/plots/curve.svg")


def test_log_figure_saves_a_plotly_figure_as_html_and_says_what_images_need(
    client: HeronClient, run_id: str
) -> None:
    import plotly.graph_objects as go

    figure = go.Figure(go.Scatter(x=[1, 2, 3], y=[30, 10, 20], name="loss-curve"))

    client.log_figure(run_id, figure, "plots/curve.html")

    html = client.load_text(f"runs:/{run_id}/plots/curve.html")
    assert html.lower().startswith("<!doctype html>")
    assert "loss-curve" in html
    assert '"y":[30,10,20]' in html
    with pytest.raises(InvalidParameter, match=r"Cannot save a plotly figure as \.png"):
        client.log_figure(run_id, figure, "plots/curve.png")


def test_log_figure_refuses_something_that_is_not_a_figure(
    client: HeronClient, run_id: str
) -> None:
    with pytest.raises(InvalidParameter, match="matplotlib or plotly"):
        client.log_figure(run_id, object(), "plot.png")


@pytest.mark.parametrize(
    "artifact_path",
    ["../escape", "a/../../b", "/etc", "a\\..\\b", "%2e%2e/x", "a\x00b"],
    ids=["dotdot", "nested-dotdot", "absolute", "backslash", "encoded-dotdot", "nul"],
)
def test_unsafe_artifact_paths_are_refused_before_anything_is_sent(
    client: HeronClient, run_id: str, tmp_path: Path, artifact_path: str
) -> None:
    (tmp_path / "f.txt").write_text("x")

    with pytest.raises(InvalidParameter, match="Invalid artifact path"):
        client.log_artifact(run_id, tmp_path / "f.txt", artifact_path)
    with pytest.raises(InvalidParameter, match="Invalid artifact path"):
        client.log_text(run_id, "x", f"{artifact_path}/f.txt")
    with pytest.raises(InvalidParameter, match="Invalid artifact path"):
        client.download_artifacts(run_id, artifact_path, tmp_path / "out")
    assert client.list_artifacts(run_id) == []


def test_log_artifact_of_a_directory_points_to_log_artifacts(
    client: HeronClient, run_id: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidParameter, match="log_artifacts"):
        client.log_artifact(run_id, tmp_path)


def test_an_artifact_file_must_name_a_file(client: HeronClient, run_id: str) -> None:
    with pytest.raises(InvalidParameter, match="file name"):
        client.log_text(run_id, "x", "")


def test_download_of_a_missing_artifact_raises_not_found(
    client: HeronClient, run_id: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        client.download_artifacts(run_id, "nope.txt", tmp_path)
    with pytest.raises(NotFound):
        client.load_text(f"runs:/{run_id}/nope.txt")


def test_artifacts_of_a_missing_run_raise_not_found(client: HeronClient) -> None:
    with pytest.raises(NotFound):
        client.log_text("0123456789abcdef0123456789abcdef", "x", "a.txt")


def test_runs_are_isolated_from_each_other(client: HeronClient, run_id: str) -> None:
    other = client.create_run(client.get_run(run_id).info.experiment_id).info.run_id
    client.log_text(run_id, "mine", "a.txt")

    assert client.list_artifacts(other) == []
    assert [f.path for f in client.list_artifacts(run_id)] == ["a.txt"]
