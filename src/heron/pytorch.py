"""`heron.pytorch`: pytorch models in the MLmodel format (MLflow's `pytorch` flavor)."""

from heron.models.flavors.pytorch import FLAVOR, load_model, log_model, save_model

__all__ = ["FLAVOR", "load_model", "log_model", "save_model"]
