"""`heron.pyfunc`: custom Python models and loading any model behind one `predict`."""

from heron.models.info import ModelInfo, get_model_info
from heron.models.pyfunc import load_model, log_model, save_model
from heron.models.pyfunc_model import PyFuncModel
from heron.models.python_model import PythonModel, PythonModelContext, model_config, set_model
from heron.models.spark_udf import spark_udf

__all__ = [
    "ModelInfo",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "get_model_info",
    "load_model",
    "log_model",
    "model_config",
    "save_model",
    "set_model",
    "spark_udf",
]
