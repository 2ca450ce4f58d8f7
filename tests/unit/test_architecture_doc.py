"""docs/architecture.md shows the layers a newcomer must respect: its text list is the import-linter contract itself,
so the page cannot drift from what CI enforces (a package added to the contract must appear in the page too)."""
from __future__ import annotations

import tomllib

from tests.helpers import REPO


def _contract_layers() -> list[str]:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return layers


def _documented_layers() -> list[str]:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    after = text.split("The same list as text, highest first", 1)[1]
    block = after.split("```\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_the_architecture_page_lists_the_enforced_layers_in_order():
    assert _documented_layers() == _contract_layers()


def test_every_layer_package_appears_in_the_diagram():
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    diagram = text.split("```mermaid", 1)[1].split("```", 1)[0]
    for layer in _contract_layers():
        for module in layer.replace(":", "|").split("|"):
            name = module.strip()
            short = name.removeprefix("app.").removeprefix("connectors.")
            assert name in diagram or short in diagram, f"{name} is in the layers contract but not in the diagram"
