"""`heron.xgboost`: xgboost models in the MLmodel format (MLflow's `xgboost` flavor)."""

from heron.models.flavors.xgboost import FLAVOR, load_model, log_model, save_model

__all__ = ["FLAVOR", "load_model", "log_model", "save_model"]
