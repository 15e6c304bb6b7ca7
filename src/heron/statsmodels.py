"""`heron.statsmodels`: statsmodels models in the MLmodel format (MLflow's `statsmodels` flavor)."""

from heron.models.flavors.statsmodels import FLAVOR, load_model, log_model, save_model

__all__ = ["FLAVOR", "load_model", "log_model", "save_model"]
