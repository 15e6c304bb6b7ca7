"""`heron.sklearn`: scikit-learn models in the MLmodel format (MLflow's `sklearn` flavor)."""

from heron.models.flavors.sklearn import FLAVOR_NAME, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]
