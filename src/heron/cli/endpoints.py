"""`heron endpoints create|get|list|update|delete|rollback|tag|query|records`: managed
serving endpoints, through `HeronClient`."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.table import Table

from heron.cli.options import console, format_time, tracking_uri_option
from heron.client import HeronClient
from heron.entities.serving import EndpointConfig, InferenceTableConfig
from heron.services.serving_state import EndpointStatus

_CONTENT_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet"}

served_option = click.option(
    "-s", "--served", "served", multiple=True, required=True, metavar="[NAME=]MODEL_URI",
    help="A model version to serve: models:/MODEL/VERSION, or models:/MODEL@ALIAS to follow "
    "an alias; NAME= names it for --traffic (default MODEL-VERSION). Repeat for several.",
)  # fmt: skip
traffic_option = click.option(
    "-t", "--traffic", multiple=True, metavar="NAME=PERCENT",
    help="The share of requests a served entity answers (all add up to 100). Needed with "
    "more than one --served.",
)  # fmt: skip
shadow_option = click.option(
    "--shadow", multiple=True, metavar="NAME=PERCENT",
    help="Mirror that share of requests to a served entity and compare its answers.",
)  # fmt: skip
wait_option = click.option(
    "--wait/--no-wait", default=False, show_default=True,
    help="Wait until every replica serves the new configuration.",
)  # fmt: skip
timeout_option = click.option(
    "--timeout", "timeout_s", type=click.FloatRange(min=0), default=300.0, show_default=True,
    help="Seconds --wait waits.",
)  # fmt: skip


@click.group()
def endpoints() -> None:
    """Managed serving endpoints: create, update (canary, A/B), roll back, query them and read
    their inference tables. Replicas run under `heron server --serve-endpoints`."""


@endpoints.command("create")
@tracking_uri_option
@click.argument("name")
@served_option
@traffic_option
@shadow_option
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag; repeatable.")
@click.option("--capture/--no-capture", default=False, show_default=True,
              help="Capture requests and answers in the endpoint's inference table.")  # fmt: skip
@click.option("--sampling-fraction", type=click.FloatRange(0, 1), default=1.0,
              show_default=True, help="The share of requests --capture keeps.")  # fmt: skip
@wait_option
@timeout_option
def create(
    tracking_uri: str | None, name: str, served: tuple[str, ...], traffic: tuple[str, ...],
    shadow: tuple[str, ...], tags: tuple[str, ...], capture: bool, sampling_fraction: float,
    wait: bool, timeout_s: float,
) -> None:  # fmt: skip
    """Creates endpoint NAME serving the --served model versions."""
    table = InferenceTableConfig(enabled=capture, sampling_fraction=sampling_fraction)
    with HeronClient(tracking_uri) as client:
        status = client.create_endpoint(
            name, served, _percentages(traffic, "--traffic"),
            shadow_traffic=_percentages(shadow, "--shadow"),
            tags=_pairs(tags, "--tag"), inference_table=table,
        )  # fmt: skip
        if wait:
            status = client.wait_for_endpoint(name, timeout_s)
    console.print(f"Created serving endpoint {name!r} (configuration 1)")
    _show(status)


@endpoints.command("update")
@tracking_uri_option
@click.argument("name")
@served_option
@traffic_option
@shadow_option
@wait_option
@timeout_option
def update(
    tracking_uri: str | None, name: str, served: tuple[str, ...], traffic: tuple[str, ...],
    shadow: tuple[str, ...], wait: bool, timeout_s: float,
) -> None:  # fmt: skip
    """Gives endpoint NAME a new configuration; the replicas roll to it while the old one
    keeps answering."""
    with HeronClient(tracking_uri) as client:
        status = client.update_endpoint_config(
            name, served, _percentages(traffic, "--traffic"),
            shadow_traffic=_percentages(shadow, "--shadow"),
        )  # fmt: skip
        if wait:
            status = client.wait_for_endpoint(name, timeout_s)
    console.print(f"Updated {name!r} to configuration {status.endpoint.config.config_version}")
    _show(status)


@endpoints.command("rollback")
@tracking_uri_option
@click.argument("name")
@wait_option
@timeout_option
def rollback(tracking_uri: str | None, name: str, wait: bool, timeout_s: float) -> None:
    """Returns endpoint NAME to the configuration before its newest one."""
    with HeronClient(tracking_uri) as client:
        status = client.rollback_endpoint(name)
        if wait:
            status = client.wait_for_endpoint(name, timeout_s)
    console.print(
        f"Rolled {name!r} back: configuration {status.endpoint.config.config_version} "
        f"repeats configuration {status.endpoint.config.config_version - 2}"
    )
    _show(status)


@endpoints.command("get")
@tracking_uri_option
@click.argument("name")
def get(tracking_uri: str | None, name: str) -> None:
    """Shows endpoint NAME: its state, configuration, traffic and replicas."""
    with HeronClient(tracking_uri) as client:
        _show(client.get_endpoint(name))


@endpoints.command("list")
@tracking_uri_option
def list_endpoints(tracking_uri: str | None) -> None:
    """Shows the serving endpoints in a table."""
    with HeronClient(tracking_uri) as client:
        found = client.list_endpoints()
    table = Table("Name", "State", "Update", "Config", "Traffic", "Replicas", "Created",
                  title="Serving endpoints")  # fmt: skip
    table.columns[0].no_wrap = True
    for s in found:
        config = s.endpoint.config
        table.add_row(
            s.endpoint.name, "READY" if s.ready else "NOT_READY", s.config_update,
            str(config.config_version), _traffic(config), str(len(s.replicas)),
            format_time(s.endpoint.creation_timestamp),
        )  # fmt: skip
    console.print(table)


@endpoints.command("delete")
@tracking_uri_option
@click.argument("name")
def delete(tracking_uri: str | None, name: str) -> None:
    """Deletes endpoint NAME; its replicas stop."""
    with HeronClient(tracking_uri) as client:
        client.delete_endpoint(name)
    console.print(f"Deleted serving endpoint {name!r}")


@endpoints.command("tag")
@tracking_uri_option
@click.argument("name")
@click.option("--set", "set_", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--delete", multiple=True, metavar="KEY", help="Repeatable.")
def tag(
    tracking_uri: str | None, name: str, set_: tuple[str, ...], delete: tuple[str, ...]
) -> None:
    """Sets and deletes tags of endpoint NAME; prints them all."""
    with HeronClient(tracking_uri) as client:
        tags = client.set_endpoint_tags(name, _pairs(set_, "--set"), delete)
    for key, value in sorted(tags.items()):
        console.print(f"{key}={value}", markup=False)


@endpoints.command("query")
@tracking_uri_option
@click.argument("name")
@click.option("-d", "--data", default=None, metavar="JSON",
              help='The request body, e.g. \'{"inputs": [[1, 2]]}\' ("-": stdin).')  # fmt: skip
@click.option("-i", "--input-path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="A file holding the body (.json, .csv or .parquet).")  # fmt: skip
@click.option("--content-type", default=None,
              help="Default: by the file's extension, else application/json.")  # fmt: skip
@click.option("--served-entity", default=None, help="Ask this served entity, not the split.")
def query(
    tracking_uri: str | None, name: str, data: str | None, input_path: Path | None,
    content_type: str | None, served_entity: str | None,
) -> None:  # fmt: skip
    """Sends one request to endpoint NAME; prints the answer (JSON on stdout) and which
    served entity and model version gave it (on stderr)."""
    if (data is None) == (input_path is None):
        raise click.UsageError("Give the request body with --data or --input-path, one of them")
    if input_path is not None:
        body = input_path.read_bytes()
        kind = content_type or _CONTENT_TYPES.get(input_path.suffix.lower(), "application/json")
    else:
        body = (sys.stdin.read() if data == "-" else str(data)).encode("utf-8")
        kind = content_type or "application/json"
    with HeronClient(tracking_uri) as client:
        answer = client.query_endpoint(name, body, content_type=kind, served_entity=served_entity)
    shown = answer.body if not answer.chunks else list(answer.chunks)
    click.echo(json.dumps(shown))
    click.echo(
        f"served by {answer.served_entity} (version {answer.served_version}), request id "
        f"{answer.request_id}" + (f", trace {answer.trace_id}" if answer.trace_id else ""),
        err=True,
    )


@endpoints.command("records")
@tracking_uri_option
@click.argument("name")
@click.option("--max-results", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object a record (JSON Lines).")
def records(tracking_uri: str | None, name: str, max_results: int, as_json: bool) -> None:
    """Shows the newest requests endpoint NAME captured in its inference table."""
    with HeronClient(tracking_uri) as client:
        page = client.search_inference_records(name, max_results=max_results)
    if as_json:
        for r in page:
            click.echo(json.dumps({"request_date": r.request_date, **dataclasses.asdict(r)}))
        return
    table = Table("Request id", "Time", "Status", "ms", "Served", "Version", "Trace",
                  title=f"Inference records of {name}")  # fmt: skip
    table.columns[0].no_wrap = True
    for r in page:
        table.add_row(
            r.request_id, format_time(r.request_time), str(r.status_code),
            str(r.execution_duration_ms), r.served_entity_id, r.served_version, r.trace_id or "",
        )  # fmt: skip
    console.print(table)


def _show(status: EndpointStatus) -> None:
    e = status.endpoint
    state = "READY" if status.ready else "NOT_READY"
    console.print(f"{e.name}: {state}, {status.config_update}", markup=False)
    if status.message:
        console.print(f"  {status.message}", markup=False)
    for label, config in (("serving", status.served_config), ("pending", status.pending_config)):
        if config is None:
            continue
        console.print(f"  {label} configuration {config.config_version}", markup=False)
        for entity in config.served_entities:
            version = status.versions.get(entity.name) if label == "pending" else None
            target = (
                f"models:/{entity.entity_name}@{entity.entity_alias}"
                if entity.entity_alias is not None
                else f"models:/{entity.entity_name}/{entity.entity_version}"
            )
            suffix = f" (version {version})" if version and entity.entity_alias else ""
            console.print(f"    {entity.name} = {target}{suffix}", markup=False)
        console.print(f"    traffic: {_traffic(config)}", markup=False)
    for r in status.replicas:
        console.print(
            f"  replica {r.replica_id} on {r.host or '?'} pid {r.pid}: {r.state}, "
            f"configuration {r.config_version}",
            markup=False,
        )


def _traffic(config: EndpointConfig) -> str:
    routes = ", ".join(f"{r.served_entity_name} {r.traffic_percentage}%" for r in config.routes)
    shadows = ", ".join(
        f"{r.served_entity_name} {r.traffic_percentage}%" for r in config.shadow_routes
    )
    return routes + (f"; shadow {shadows}" if shadows else "")


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    found = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r}: use KEY=VALUE", param_hint=option)
        found[key] = rest
    return found


def _percentages(values: Sequence[str], option: str) -> dict[str, int]:
    found = {}
    for key, value in _pairs(values, option).items():
        if not value.strip().isdigit():
            raise click.BadParameter(f"{key}={value}: the percentage is a whole number from 0 "
                                     "to 100", param_hint=option)  # fmt: skip
        found[key] = int(value)
    return found
