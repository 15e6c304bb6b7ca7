"""The in-process backend of the client: the services over the SQL stores, no server between."""

from heron.client.local.backend import LocalBackend

__all__ = ["LocalBackend"]
