"""The MLmodel format, signatures, environments, python_function and the flavors."""

from heron.models.evaluation import ModelEvaluationResult, evaluate
from heron.models.info import ModelInfo, get_model_info
from heron.models.mlmodel import Model
from heron.models.python_model import model_config, set_model
from heron.models.signature import ModelSignature, infer_signature
from heron.models.thresholds import MetricThreshold

__all__ = [
    "MetricThreshold",
    "Model",
    "ModelEvaluationResult",
    "ModelInfo",
    "ModelSignature",
    "evaluate",
    "get_model_info",
    "infer_signature",
    "model_config",
    "set_model",
]
