"""`heron models ...`: work with models in the MLmodel format."""

from __future__ import annotations

from pathlib import Path

import click

from heron.cli.model_serving import generate_dockerfile, serve
from heron.cli.options import tracking_uri_option
from heron.entities import reserved


@click.group()
def models() -> None:
    """Use models: predict with a model from a path or a model URI, serve it over HTTP,
    write a Dockerfile that serves it, or show where a registered model version came from
    (lineage)."""


models.add_command(serve)
models.add_command(generate_dockerfile)


@models.command("predict")
@click.option(
    "-m", "--model-uri", required=True, help="runs:/..., models:/..., s3://... or a local path."
)
@click.option(
    "-i",
    "--input-path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON in MLflow's scoring format ({'dataframe_split': ...}, {'inputs': ...}), or CSV.",
)
@click.option(
    "-o",
    "--output-path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write {'predictions': ...} (default: standard output).",
)
@click.option(
    "-t",
    "--content-type",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
)
@tracking_uri_option
def predict(
    model_uri: str,
    input_path: Path,
    output_path: Path | None,
    content_type: str,
    tracking_uri: str | None,
) -> None:
    """Loads the model (running its code: only use models you trust) and predicts."""
    import heron
    from heron.models.pyfunc import load_model
    from heron.serving import protocol

    if tracking_uri:
        heron.set_tracking_uri(tracking_uri)
    raw = input_path.read_bytes()
    model = load_model(model_uri)
    if content_type == "csv":
        request = protocol.Request("frame", protocol.parse_csv(raw))
    else:
        params = model.metadata.signature.params if model.metadata.signature else None
        request = protocol.parse_json(raw, [p.name for p in params] if params else ())
    schema = model.metadata.signature.inputs if model.metadata.signature else None
    data = request.value if request.kind == "frame" else protocol.model_input(request, schema)
    predictions = model.predict(data, params=request.params)
    out = protocol.render(predictions, unwrapped=request.unwrapped).decode()
    if output_path is None:
        click.echo(out)
    else:
        output_path.write_text(out, encoding="utf-8")


@models.command("lineage")
@click.argument("name")
@click.argument("version")
@tracking_uri_option
def lineage(name: str, version: str, tracking_uri: str | None) -> None:
    """Shows where model version VERSION of NAME came from: its LoggedModel, the run that
    produced it, the datasets that run used, and the experiment."""
    from heron.client import HeronClient

    with HeronClient(tracking_uri) as client:
        chain = client.get_model_version_lineage(name, version)
    v = chain.model_version
    click.echo(f"model version  {v.name} v{v.version}  ({v.status}, stage {v.current_stage})")
    click.echo(f"  source       {v.source}")
    click.echo(f"  files        {v.storage_location}")
    if chain.logged_model is not None:
        m = chain.logged_model
        click.echo(f"logged model   {m.model_id}  {m.name!r}  {m.artifact_location}")
    else:
        click.echo("logged model   (none)")
    if chain.run is not None:
        r = chain.run
        click.echo(f"run            {r.run_id}  {r.run_name!r}  {r.status}")
    else:
        click.echo(f"run            {v.run_id or '(none)'}")
    for item in chain.dataset_inputs:
        d = item.dataset
        context = next((t.value for t in item.tags if t.key == reserved.DATASET_CONTEXT), "")
        shown = f" ({context})" if context else ""
        click.echo(f"  dataset      {d.name}@{d.digest}{shown}  {d.source_type}")
    if chain.experiment is not None:
        e = chain.experiment
        click.echo(f"experiment     {e.experiment_id}  {e.name!r}")
