"""`heron worker`: the process that runs deployment job tasks (it loads models and runs
custom code, so it is never the tracking server's process)."""

from heron.jobs.custom import TaskInfo

__all__ = ["TaskInfo"]
