"""`heron models ...`: work with models in the MLmodel format."""

from __future__ import annotations

from pathlib import Path

import click

from heron.cli.options import tracking_uri_option


@click.group()
def models() -> None:
    """Use models: predict with a model from a path or a model URI."""


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
    from heron.models import payload
    from heron.models.pyfunc import load_model

    if tracking_uri:
        heron.set_tracking_uri(tracking_uri)
    raw = input_path.read_bytes()
    if content_type == "csv":
        data, params = payload.parse_csv(raw), None
    else:
        data, params = payload.parse_json(raw)
    model = load_model(model_uri)
    out = payload.predictions_json(model.predict(data, params=params))
    if output_path is None:
        click.echo(out)
    else:
        output_path.write_text(out, encoding="utf-8")
