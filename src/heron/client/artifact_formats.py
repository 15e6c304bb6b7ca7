"""Objects to artifact bytes and back: dicts (JSON/YAML), figures, images, tables."""

from __future__ import annotations

import importlib
import io
import json
import posixpath
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from heron.errors import InvalidParameter

if TYPE_CHECKING:
    from PIL.Image import Image

YAML_EXTENSIONS = (".yaml", ".yml")
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".bmp": "BMP"}
IMAGE_FORMATS |= {".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}


def require(module: str, package: str, purpose: str) -> ModuleType:
    """Imports an optional dependency, or says which package to install.

    Raises:
        ModuleNotFoundError: the package is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModuleNotFoundError(
            f"{purpose} needs the {package!r} package: pip install {package}", name=module
        ) from None


def _extension(artifact_file: str) -> str:
    return posixpath.splitext(artifact_file)[1].lower()


# Dicts


def dict_bytes(dictionary: Mapping[str, Any], artifact_file: str) -> bytes:
    """YAML for a .yaml/.yml file, else JSON (indented), as MLflow's log_dict writes."""
    if _extension(artifact_file) in YAML_EXTENSIONS:
        import yaml

        text = yaml.safe_dump(dict(dictionary), sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(dictionary, indent=2, ensure_ascii=False, default=_jsonable)
    return text.encode("utf-8")


def load_dict_bytes(data: bytes, artifact_file: str) -> dict[str, Any]:
    """The dict in a JSON or (by extension) YAML artifact.

    Raises:
        InvalidParameter: the file does not hold a dict.
    """
    try:
        if _extension(artifact_file) in YAML_EXTENSIONS:
            import yaml

            value = yaml.safe_load(data)
        else:
            value = json.loads(data)
    except ValueError as exc:  # yaml.YAMLError is not a ValueError: caught below
        raise InvalidParameter(f"{artifact_file!r} is not valid JSON: {exc}") from None
    except Exception as exc:
        raise InvalidParameter(f"{artifact_file!r} is not valid YAML: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidParameter(f"{artifact_file!r} holds a {type(value).__name__}, not a dict")
    return value


def _jsonable(value: Any) -> Any:
    """NumPy scalars and arrays (and anything with .tolist()/.item()) as plain values."""
    for method in ("tolist", "item", "isoformat"):
        convert = getattr(value, method, None)
        if callable(convert):
            return convert()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# Figures


def figure_bytes(figure: Any, artifact_file: str, save_kwargs: Mapping[str, Any] | None) -> bytes:
    """A matplotlib figure (any format savefig knows) or a plotly figure (.html, or an image
    format through kaleido), by the extension of `artifact_file`."""
    module = type(figure).__module__
    extension = _extension(artifact_file).lstrip(".")
    if not extension:
        raise InvalidParameter(f"{artifact_file!r} needs an extension such as .png or .html")
    kwargs = dict(save_kwargs or {})
    if module.startswith("matplotlib"):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=extension, **kwargs)
        return buffer.getvalue()
    if module.startswith("plotly"):
        if extension in ("html", "htm"):
            html: str = figure.to_html(**kwargs)
            return html.encode("utf-8")
        try:
            image: bytes = figure.to_image(format=extension, **kwargs)
        except (RuntimeError, ValueError) as exc:  # no kaleido, or a format plotly lacks
            first_line = str(exc).strip().splitlines()[0]
            raise InvalidParameter(
                f"Cannot save a plotly figure as .{extension}: {first_line} "
                "(.html needs nothing more)"
            ) from None
        return image
    raise InvalidParameter(
        f"log_figure takes a matplotlib or plotly figure, not {module}.{type(figure).__name__}"
    )


# Images


def image_bytes(image: Any, artifact_file: str) -> bytes:
    """A PIL image or a NumPy array (HxW, HxWx1, HxWx3 or HxWx4; floats in [0, 1] or
    integers in [0, 255]) encoded as PNG (or the format the extension names)."""
    pil = require("PIL.Image", "pillow", "log_image")
    image_format = IMAGE_FORMATS.get(_extension(artifact_file))
    if image_format is None:
        raise InvalidParameter(
            f"{artifact_file!r}: log_image writes {', '.join(sorted(IMAGE_FORMATS))} files"
        )
    if not isinstance(image, pil.Image):
        if type(image).__module__ != "numpy":
            raise InvalidParameter(
                f"log_image takes a PIL image or a NumPy array, not {type(image).__name__}"
            )
        image = pil.fromarray(_uint8_pixels(image))
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def _uint8_pixels(array: Any) -> Any:
    import numpy as np

    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise InvalidParameter(
            f"An image array must be HxW, HxWx1, HxWx3 or HxWx4, not {array.shape}"
        )
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        if array.size and (np.nanmin(array) < 0 or np.nanmax(array) > 1):
            raise InvalidParameter("A float image array must hold values in [0, 1]")
        return np.round(np.nan_to_num(array) * 255).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        if array.size and (array.min() < 0 or array.max() > 255):
            raise InvalidParameter("An integer image array must hold values in [0, 255]")
        return array.astype(np.uint8)
    raise InvalidParameter(f"An image array must hold numbers, not {array.dtype}")


def load_image_bytes(data: bytes) -> Image:
    """A PIL image, loaded fully (the bytes are not needed afterwards)."""
    pil = require("PIL.Image", "pillow", "load_image")
    image: Image = pil.open(io.BytesIO(data))
    image.load()
    return image


# Tables


def table(data: Any) -> dict[str, list[Any]]:
    """MLflow's table format, `{"columns": [...], "data": [[row], ...]}`, from a pandas
    DataFrame or a dict of equally long columns."""
    if type(data).__module__.startswith("pandas") and hasattr(data, "to_json"):
        parsed: dict[str, list[Any]] = json.loads(data.to_json(orient="split", index=False))
        return {"columns": [str(c) for c in parsed["columns"]], "data": parsed["data"]}
    if not isinstance(data, Mapping):
        raise InvalidParameter(
            f"log_table takes a pandas DataFrame or a dict of columns, not {type(data).__name__}"
        )
    columns = {str(name): _column(name, values) for name, values in data.items()}
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise InvalidParameter(f"Table columns have different lengths: {sorted(lengths)}")
    rows = [list(row) for row in zip(*columns.values(), strict=True)]
    plain: dict[str, list[Any]] = json.loads(
        json.dumps({"columns": list(columns), "data": rows}, default=_jsonable)
    )
    return plain


def _column(name: object, values: Any) -> list[Any]:
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise InvalidParameter(f"Table column {name!r} must be a list of values")
    return list(values)


def append_rows(existing: dict[str, Any], new: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """`new` appended to a table logged before (columns united, missing cells null), as
    MLflow's log_table does when the file exists."""
    old_columns = [str(c) for c in existing.get("columns", [])]
    columns = old_columns + [c for c in new["columns"] if c not in old_columns]

    def widen(names: list[str], rows: list[list[Any]]) -> list[list[Any]]:
        index = {name: i for i, name in enumerate(names)}
        return [[row[index[c]] if c in index else None for c in columns] for row in rows]

    data = widen(old_columns, existing.get("data", [])) + widen(new["columns"], new["data"])
    return {"columns": columns, "data": data}
