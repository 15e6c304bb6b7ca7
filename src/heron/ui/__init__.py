"""Heron's web UI: server-rendered pages mounted at / by the server."""

from heron.ui.site import routes

__all__ = ["routes"]
