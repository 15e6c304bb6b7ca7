"""Heron's Python client: `HeronClient` and the fluent API behind `heron.start_run()`."""

from heron.client.client import HeronClient

__all__ = ["HeronClient"]
