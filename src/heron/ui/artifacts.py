"""The run page's artifact browser: one directory level at a time and previews of files
(text, JSON, YAML, images, CSV/TSV tables, HTML in a sandboxed frame, MLmodel summaries)."""

from __future__ import annotations

import csv
import io
import json
import mimetypes
from dataclasses import dataclass, field
from typing import Any

import yaml

from heron.errors import NotFound
from heron.services.artifacts import ArtifactService
from heron.store.artifacts import FileStream, paths
from heron.store.artifacts.ranges import ByteRange

PREVIEW_BYTES = 1 << 20  # text previews show at most the first MiB
TABLE_ROWS = 500
LISTING_LIMIT = 1000
IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".svg"}
TEXT_TYPES = {".txt", ".log", ".md", ".py", ".yaml", ".yml", ".json", ".csv", ".tsv", ".ini",
              ".cfg", ".toml", ".sh", ".sql", ".xml", ".html", ".htm", ".jsonl", ".r"}  # fmt: skip
# Served artifacts may hold anything: HTML runs with no script, no network, in a unique
# origin (sandbox), so it can neither read this site's pages nor act as the user.
ARTIFACT_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "font-src data:; frame-ancestors 'self'"
)


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    path: str  # relative to the run's artifact root
    is_dir: bool
    size: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Preview:
    path: str
    kind: str  # image, html, json, yaml, table, mlmodel, text, binary
    size: int | None = None
    text: str = ""
    truncated: bool = False
    rows: list[list[str]] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Location:
    """A run's (or a logged model's) artifacts: the files under its artifact URI."""

    service: ArtifactService
    artifact_uri: str

    def list(self, path: str) -> list[Entry]:
        base = paths.clean(path)
        page = self.service.list_artifacts(self.artifact_uri, base, max_results=LISTING_LIMIT)
        entries = [
            Entry(
                name=paths.relative_to(info.path, base).rsplit("/", 1)[-1],
                path=info.path,
                is_dir=info.is_dir,
                size=info.file_size,
            )
            for info in page
        ]
        return sorted(entries, key=lambda e: (not e.is_dir, e.name.lower()))

    def read(self, path: str, byte_range: ByteRange | None = None) -> FileStream:
        return self.service.read_artifact(self.artifact_uri, path, byte_range=byte_range)

    def head(self, path: str, limit: int = PREVIEW_BYTES) -> tuple[bytes, bool]:
        """The first `limit` bytes of a file, and whether there was more."""
        data = bytearray()
        chunks = self.read(path)
        try:
            for chunk in chunks:
                data += chunk
                if len(data) > limit:
                    return bytes(data[:limit]), True
        finally:
            chunks.close()
        return bytes(data), False


def kind_of(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name == "mlmodel":
        return "mlmodel"
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in IMAGE_TYPES:
        return "image"
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix in (".csv", ".tsv"):
        return "table"
    if suffix in TEXT_TYPES or name in ("requirements.txt", "conda.yaml", "python_env.yaml"):
        return "text"
    return "binary"


def preview(where: Location, entry: Entry) -> Preview:
    kind = kind_of(entry.path)
    if kind in ("image", "html", "binary"):
        return Preview(path=entry.path, kind=kind, size=entry.size)
    data, truncated = where.head(entry.path)
    text = data.decode("utf-8", errors="replace")
    base = {"path": entry.path, "size": entry.size, "truncated": truncated}
    if kind == "json" and not truncated:
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            kind = "text"
    if kind == "table":
        delimiter = "\t" if entry.path.lower().endswith(".tsv") else ","
        rows = []
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row)
            if len(rows) > TABLE_ROWS:
                break
        return Preview(kind="table", rows=rows, text="", **base)  # type: ignore[arg-type]
    if kind == "mlmodel":
        return Preview(kind="mlmodel", text=text, model=mlmodel_summary(text), **base)  # type: ignore[arg-type]
    return Preview(kind=kind, text=text, **base)  # type: ignore[arg-type]


def mlmodel_summary(text: str) -> dict[str, Any]:
    """What an MLmodel file says about the model: flavors, signature, where it came from."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(doc, dict):
        return {}
    found = doc.get("signature")
    signature: dict[str, Any] = found if isinstance(found, dict) else {}
    flavors = doc.get("flavors")
    summary: dict[str, Any] = {
        "flavors": sorted(flavors) if isinstance(flavors, dict) else [],
        "inputs": _schema(signature.get("inputs")),
        "outputs": _schema(signature.get("outputs")),
        "params": _schema(signature.get("params")),
    }
    for key in ("model_uuid", "model_id", "run_id", "utc_time_created", "artifact_path"):
        if doc.get(key):
            summary[key] = str(doc[key])
    return summary


def _schema(value: Any) -> list[dict[str, str]]:
    """A signature's column list (stored as a JSON string) as name/type rows."""
    if not isinstance(value, str):
        return []
    try:
        columns = json.loads(value)
    except ValueError:
        return []
    rows = []
    for column in columns if isinstance(columns, list) else []:
        if isinstance(column, dict):
            kind = column.get("type", "")
            if kind == "tensor":
                spec = column.get("tensor-spec", {})
                kind = f"tensor {spec.get('dtype', '')} {spec.get('shape', '')}"
            rows.append(
                {
                    "name": str(column.get("name", "")),
                    "type": str(kind),
                    "required": "" if column.get("required", True) else "optional",
                }
            )
    return rows


def find(where: Location, path: str) -> Entry | None:
    """The entry at `path` (None for the root); NotFound when nothing is there."""
    path = paths.clean(path)
    if not path:
        return None
    parent, _, name = path.rpartition("/")
    for entry in where.list(parent):
        if entry.name == name:
            return entry
    raise NotFound(f"No artifact at {path!r}")


def media_type(path: str) -> str:
    """The Content-Type the raw endpoint serves a file with: images and HTML as themselves
    (both under ARTIFACT_CSP), text as text/plain, the rest as bytes to download."""
    kind = kind_of(path)
    if kind in ("image", "html"):
        return mimetypes.guess_type(path)[0] or "application/octet-stream"
    if kind == "binary":
        return "application/octet-stream"
    return "text/plain; charset=utf-8"
