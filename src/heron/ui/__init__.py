"""Heron's web UI: server-rendered pages mounted at / by the server."""

from heron.ui.services import UIServices
from heron.ui.site import routes

__all__ = ["UIServices", "routes"]
