"""`heron jobs ...`: deployment jobs: define and attach them, follow their runs, approve or
reject a version, cancel a run or retry it from the task that failed."""

from __future__ import annotations

from pathlib import Path

import click

from heron.cli.options import console, format_duration, format_time, tracking_uri_option
from heron.client.client import HeronClient
from heron.entities.deployment_jobs import JobRun


@click.group()
def jobs() -> None:
    """Deployment jobs: every new version of a model runs evaluate, approve, deploy."""


def _definition(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@jobs.command("create")
@click.argument("name")
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--description", default=None)
@tracking_uri_option
def create(name: str, definition: Path, description: str | None, tracking_uri: str | None) -> None:
    """Defines job NAME from DEFINITION, a YAML or JSON file of its tasks."""
    with HeronClient(tracking_uri) as client:
        job = client.backend.deployment_jobs.create_job(
            name, _definition(definition), description=description
        )
    console.print(f"Created job {job.name!r}: {job.job_id} (version {job.version})")


@jobs.command("update")
@click.argument("job")
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--description", default=None)
@tracking_uri_option
def update(job: str, definition: Path, description: str | None, tracking_uri: str | None) -> None:
    """Writes JOB's next version (runs already going keep theirs)."""
    with HeronClient(tracking_uri) as client:
        found = client.backend.deployment_jobs.find_job(job)
        new = client.backend.deployment_jobs.update_job(
            found.job_id, _definition(definition), description=description
        )
    console.print(f"Job {new.name!r} is at version {new.version}")


@jobs.command("list")
@tracking_uri_option
def list_jobs(tracking_uri: str | None) -> None:
    """Every job definition."""
    with HeronClient(tracking_uri) as client:
        found = client.backend.deployment_jobs.list_jobs()
    for j in found:
        tasks = " > ".join(f"{t.name} ({t.kind.value})" for t in j.tasks)
        click.echo(f"{j.job_id}  {j.name}  v{j.version}  {tasks}")


@jobs.command("show")
@click.argument("job")
@tracking_uri_option
def show(job: str, tracking_uri: str | None) -> None:
    """JOB's definition as it was written (its latest version)."""
    with HeronClient(tracking_uri) as client:
        found = client.backend.deployment_jobs.find_job(job)
    console.print(f"# {found.name} ({found.job_id}), version {found.version}")
    click.echo(found.source)


@jobs.command("attach")
@click.argument("model")
@click.argument("job")
@tracking_uri_option
def attach(model: str, job: str, tracking_uri: str | None) -> None:
    """Makes every new version of MODEL run JOB ('' detaches it)."""
    with HeronClient(tracking_uri) as client:
        job_id = client.backend.deployment_jobs.find_job(job).job_id if job else ""
        client.update_registered_model(model, deployment_job_id=job_id)
    console.print(f"Model {model!r}: {'job ' + job_id if job_id else 'no job'}")


@jobs.command("start")
@click.argument("model")
@click.argument("version")
@tracking_uri_option
def start(model: str, version: str, tracking_uri: str | None) -> None:
    """Runs MODEL's job for VERSION now."""
    with HeronClient(tracking_uri) as client:
        run = client.backend.job_runs.start_run(model, version)
    console.print(f"Started run {run.run_id} of {run.job_name!r} for {model} v{version}")


@jobs.command("runs")
@click.option("--model", default=None)
@click.option("--version", default=None)
@click.option("--state", "states", multiple=True, help="PENDING, RUNNING, APPROVAL, ...")
@tracking_uri_option
def runs(
    model: str | None, version: str | None, states: tuple[str, ...], tracking_uri: str | None
) -> None:
    """Runs, newest first."""
    with HeronClient(tracking_uri) as client:
        page = client.backend.job_runs.search_runs(name=model, version=version, states=states)
    for r in page:  # one line a run, for people and for scripts (awk '{print $1}')
        started = format_time(r.creation_timestamp)
        click.echo(
            f"{r.run_id}  {r.name} v{r.version}  {r.job_name}  {r.state.value}  "
            f"{r.current_task or '-'}  {started}"
        )


@jobs.command("status")
@click.argument("run_id")
@click.option("--logs", is_flag=True, help="Show every task's logs too.")
@tracking_uri_option
def status(run_id: str, logs: bool, tracking_uri: str | None) -> None:
    """RUN_ID's tasks: state, times, metrics, who approved, why it failed."""
    with HeronClient(tracking_uri) as client:
        run = client.backend.job_runs.get_run(run_id)
    _print_run(run, logs=logs)


def _print_run(run: JobRun, *, logs: bool) -> None:
    console.print(
        f"{run.name} v{run.version}: {run.job_name} (v{run.job_version}) [bold]{run.state}[/bold]"
    )
    if run.failure_reason:
        console.print(f"  failed: {run.failure_reason}")
    for t in run.tasks:
        took = format_duration(t.started_at, t.finished_at) if t.started_at else ""
        line = f"  {t.index + 1}. {t.name} ({t.kind.value}) {t.state.value} {took}"
        if t.attempts > 1:
            line += f" after {t.attempts} attempts"
        console.print(line)
        if t.metrics:
            console.print("     " + ", ".join(f"{k}={v:g}" for k, v in sorted(t.metrics.items())))
        if "approver" in t.detail:
            console.print(f"     decided by {t.detail['approver']}")
        if t.error:
            console.print(f"     error: {t.error}")
        if logs and t.logs:
            click.echo("".join(f"     | {line}\n" for line in t.logs.splitlines()))


def _decide(run_id: str, approved: bool, comment: str, task: str | None, uri: str | None) -> None:
    with HeronClient(uri) as client:
        run = client.backend.job_runs.decide(
            run_id, approved=approved, comment=comment, task=task, via="cli"
        )
    console.print(f"{'Approved' if approved else 'Rejected'}: run {run.run_id} is {run.state}")


@jobs.command("approve")
@click.argument("run_id")
@click.option("--comment", "-m", default="", help="Why (kept in the activity log).")
@click.option("--task", default=None, help="The approval task (default: the one waiting).")
@tracking_uri_option
def approve(run_id: str, comment: str, task: str | None, tracking_uri: str | None) -> None:
    """Approves the version RUN_ID waits on (needs PROMOTE on the model)."""
    _decide(run_id, True, comment, task, tracking_uri)


@jobs.command("reject")
@click.argument("run_id")
@click.option("--comment", "-m", required=True, help="Why (kept in the activity log).")
@click.option("--task", default=None, help="The approval task (default: the one waiting).")
@tracking_uri_option
def reject(run_id: str, comment: str, task: str | None, tracking_uri: str | None) -> None:
    """Rejects the version RUN_ID waits on: the run fails (needs PROMOTE on the model)."""
    _decide(run_id, False, comment, task, tracking_uri)


@jobs.command("cancel")
@click.argument("run_id")
@click.option("--reason", default=None)
@tracking_uri_option
def cancel(run_id: str, reason: str | None, tracking_uri: str | None) -> None:
    """Cancels RUN_ID (the task in flight stops at its next step)."""
    with HeronClient(tracking_uri) as client:
        run = client.backend.job_runs.cancel_run(run_id, reason)
    console.print(f"Run {run.run_id} is {run.state}")


@jobs.command("retry")
@click.argument("run_id")
@tracking_uri_option
def retry(run_id: str, tracking_uri: str | None) -> None:
    """Runs a failed or cancelled RUN_ID again, from the task that stopped it."""
    with HeronClient(tracking_uri) as client:
        run = client.backend.job_runs.retry_run(run_id)
    console.print(f"Run {run.run_id} is {run.state} again, from {run.current_task or 'the start'}")
