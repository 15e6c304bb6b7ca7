"""`heron.openai`: automatic tracing of the `openai` Python client (`heron.openai.autolog()`)."""

from heron.tracing.openai import autolog

__all__ = ["autolog"]
