"""`heron scorers monitor`: the worker that scores new production traces with the scorers
registered and started in their experiments (outside the server, so no scorer code runs in
it; code scorers run in a sandboxed subprocess)."""

from __future__ import annotations

import time

import click

from heron.cli.options import console, tracking_uri_option
from heron.clock import now_ms


@click.group()
def scorers() -> None:
    """Registered scorers on production traces."""


@scorers.command("monitor")
@tracking_uri_option
@click.option(
    "--interval",
    type=click.FloatRange(1, 3600),
    default=30,
    show_default=True,
    help="Seconds between passes.",
)
@click.option(
    "--lookback-minutes",
    type=click.FloatRange(0, 10_080),
    default=60,
    show_default=True,
    help="How far back the first pass looks.",
)
@click.option("--once", is_flag=True, help="One pass, then exit.")
def monitor(tracking_uri: str | None, interval: float, lookback_minutes: float, once: bool) -> None:
    """Scores the new traces each started scorer picks, pass after pass."""
    import heron
    from heron.genai.monitoring import score_new_traces

    if tracking_uri:
        heron.set_tracking_uri(tracking_uri)
    since = now_ms() - int(lookback_minutes * 60_000)
    while True:
        started = now_ms()
        done = score_new_traces(since)
        console.print(f"scored: {done or 'no scorer is started'}")
        if once:
            return
        since = started - int(interval * 1000)  # overlap: traces that ended late still count
        time.sleep(interval)
