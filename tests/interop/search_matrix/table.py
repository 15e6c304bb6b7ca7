"""The search matrix as the Markdown table in docs/mlflow-compatibility.md."""

from __future__ import annotations

from cells import OPS, ROWS, SEARCHES, cell_id
from heron_own import DIFFERENCES, EXTENSIONS

LEGEND = (
    "`✓` MLflow and Heron answer alike · `-` both refuse (INVALID_PARAMETER_VALUE) · "
    "`+` Heron's extension: MLflow refuses or fails, Heron answers · `≠` both answer, "
    "Heron otherwise on purpose (see below) · `500` MLflow fails with a 500, Heron refuses"
)


def symbol(cell: str, recorded: object) -> str:
    if cell in EXTENSIONS:
        return "+"
    if cell in DIFFERENCES:
        return "≠"
    if isinstance(recorded, list):
        return "✓"
    return "500" if "INTERNAL_ERROR" in str(recorded) else "-"


def markdown(recorded: dict[str, object]) -> str:
    """One table per search: its field kinds against every comparator."""
    out = [LEGEND, ""]
    for search in SEARCHES:
        out += [f"**{search.replace('_', ' ')}**", ""]
        out.append("| field | kind | " + " | ".join(OPS) + " |")
        out.append("|---|---|" + "---|" * len(OPS))
        for row in ROWS:
            if row.search == search:
                marks = [symbol(cell_id(row, op), recorded[cell_id(row, op)]) for op in OPS]
                out.append(f"| `{row.field}` | {row.kind} | " + " | ".join(marks) + " |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
