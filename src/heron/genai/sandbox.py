"""Custom code scorers run by the monitoring worker in a subprocess of their own, never by
`exec` in a process of Heron's: an isolated interpreter (`python -I`, empty environment,
a scratch directory) with limits on CPU time, memory, file size and open files, and a wall
clock timeout. The row goes in and the verdict comes out as JSON on the pipes."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from typing import Any

import orjson

from heron.errors import InvalidState
from heron.genai.scoring import Row, Scorer

CPU_SECONDS = 10
MEMORY_BYTES = 1024**3
TIMEOUT_S = 30.0

_RUNNER = r"""
import json, resource, sys
request = json.loads(sys.stdin.read())
for name, value in request["limits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
scope = {}
try:
    exec(compile(request["source"], "<scorer>", "exec"), scope)
    fn = scope[request["function"]]
    args = {k: v for k, v in request["row"].items() if k in request["wants"]}
    value = fn(**args)
    print(json.dumps({"value": value}, default=str))
except BaseException as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
"""
# The child sets its own limits before it compiles the scorer: a preexec_fn would run between
# fork and exec in a process with threads (the worker's), where it can deadlock.
LIMITS = {"RLIMIT_CPU": CPU_SECONDS, "RLIMIT_AS": MEMORY_BYTES, "RLIMIT_FSIZE": 1024 * 1024,
          "RLIMIT_NOFILE": 64}  # fmt: skip


class SandboxedScorer(Scorer):
    """A `@scorer` function known only by its source (a registered scorer), run in the
    sandbox; it takes `inputs`, `outputs` and `expectations` by name (not `trace`)."""

    def __init__(self, name: str, function: str, source: str, wants: list[str]) -> None:
        super().__init__(name)
        self.function, self.code, self.wants = function, source, list(wants)

    def score(self, row: Row) -> Any:
        request = {
            "source": self.code,
            "limits": LIMITS,
            "function": self.function,
            "wants": self.wants,
            "row": {
                "inputs": row.inputs,
                "outputs": row.outputs,
                "expectations": dict(row.expectations),
            },
        }
        with tempfile.TemporaryDirectory(prefix="heron-scorer-") as scratch:
            try:
                done = subprocess.run(  # noqa: S603 (our own interpreter and runner)
                    [sys.executable, "-I", "-S", "-c", _RUNNER],
                    input=orjson.dumps(request, default=str).decode(),
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT_S,
                    env={},
                    cwd=scratch,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise InvalidState(f"Scorer {self.name!r} ran past {TIMEOUT_S:g} s") from None
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            raise InvalidState(
                f"Scorer {self.name!r} died in its sandbox (exit {done.returncode}): "
                f"{done.stderr.strip()[-300:]}"
            )
        answer = orjson.loads(lines[-1])
        if "error" in answer:
            raise InvalidState(f"Scorer {self.name!r} failed: {answer['error']}")
        return answer["value"]
