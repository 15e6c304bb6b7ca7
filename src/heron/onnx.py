"""`heron.onnx`: onnx models in the MLmodel format (MLflow's `onnx` flavor)."""

from heron.models.flavors.onnx import FLAVOR, load_model, log_model, save_model

__all__ = ["FLAVOR", "load_model", "log_model", "save_model"]
