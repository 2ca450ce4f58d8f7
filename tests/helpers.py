"""Helpers shared by tests (importable, unlike conftest)."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "tests" / "fixtures" / "models"


def model_files(*names: str) -> list[tuple[str, bytes]]:
    """Fixture models as (upload name, bytes): a BPMN file, or a folder of forms `<process>/<task>.json`."""
    out = []
    for name in names:
        path = MODELS / name
        if path.is_dir():
            out += [(f"{f.relative_to(MODELS).as_posix()}", f.read_bytes()) for f in sorted(path.rglob("*.json"))]
        else:
            out.append((path.name, path.read_bytes()))
    return out


