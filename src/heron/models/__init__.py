"""The MLmodel format, signatures, environments, python_function and the flavors."""

try:
    import cloudpickle  # noqa: F401
    import numpy  # noqa: F401
except ModuleNotFoundError as missing:  # the server installs neither
    raise ModuleNotFoundError(
        f"Heron's models need {missing.name}: pip install 'heron[models]' (or a flavor's "
        "extra, such as 'heron[sklearn]')",
        name=missing.name,
    ) from missing

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
