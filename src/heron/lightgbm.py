"""`heron.lightgbm`: lightgbm models in the MLmodel format (MLflow's `lightgbm` flavor)."""

from heron.models.flavors.lightgbm import FLAVOR, load_model, log_model, save_model

__all__ = ["FLAVOR", "load_model", "log_model", "save_model"]
