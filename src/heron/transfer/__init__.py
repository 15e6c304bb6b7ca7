"""Export and import between servers: Heron and MLflow, either way, through their REST API
(or a Heron store in process). `AGGREGATES` lists what is copied, in order."""

from heron.transfer.base import Aggregate, Progress, Transfer
from heron.transfer.datasets import Datasets
from heron.transfer.models import LoggedModels, RegisteredModels
from heron.transfer.traces import Traces
from heron.transfer.tracking import Experiments, Runs

# In dependency order: runs need their experiments, versions their runs and models, datasets
# their experiments (and their records' sources name traces).
AGGREGATES: list[Aggregate] = [
    Experiments(),
    Runs(),
    LoggedModels(),
    RegisteredModels(),
    Traces(),
    Datasets(),
]


def run_transfer(transfer: Transfer, aggregates: list[Aggregate] | None = None) -> Transfer:
    """Copies every aggregate from `transfer.source` to `transfer.target`."""
    for aggregate in aggregates if aggregates is not None else AGGREGATES:
        aggregate.copy(transfer)
    return transfer


__all__ = ["AGGREGATES", "Aggregate", "Progress", "Transfer", "run_transfer"]
