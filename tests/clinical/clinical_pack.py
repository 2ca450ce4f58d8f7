"""Load the clinical decision pack (dmn/*.dmn), its conformance cases and the contract in decisions.md."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.engine.dmn import Decision, DecisionRegistry, parse_decision

ROOT = Path(__file__).resolve().parents[2]
DMN_DIR = ROOT / "dmn"
CONTRACT_COPY = ROOT / "docs" / "decisions.md"  # carries a verbatim copy of the contract table
SHARED_CONTRACT = ROOT.parent / "shared" / "clinical" / "decisions.md"  # the original, where the workspace has it


@lru_cache(maxsize=1)
def decisions() -> tuple[Decision, ...]:
    return tuple(parse_decision(p.read_bytes(), filename=p.name) for p in sorted(DMN_DIR.glob("*.dmn")))


@lru_cache(maxsize=1)
def registry() -> DecisionRegistry:
    return DecisionRegistry(decisions())


def case_files() -> list[Path]:
    return sorted(DMN_DIR.glob("*.cases.json"))


def all_cases() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in case_files():
        data = json.loads(path.read_text(encoding="utf-8"))
        out += [(data["decision"], c) for c in data["cases"]]
    return out


def chain(decision_id: str) -> list[Decision]:
    """The decision and every decision it requires, transitively."""
    reg, seen, order = registry(), set(), []

    def visit(d: str) -> None:
        if d not in seen:
            seen.add(d)
            for r in reg.get(d).required:
                visit(r)
            order.append(reg.get(d))

    visit(decision_id)
    return order


# --- the contract table in decisions.md --------------------------------------------------------------------------

@dataclass(frozen=True)
class ContractDecision:
    id: str
    inputs: frozenset[str]
    outputs: frozenset[str]
    codes: dict[str, frozenset[str | None]]  # name → allowed codes ("∈ A, B, null")


def contract_rows(path: Path) -> list[tuple[str, str, str, str]]:
    return re.findall(r"^\| `(\w+)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \|$", path.read_text(encoding="utf-8"), re.MULTILINE)


def _codes(cell: str) -> dict[str, frozenset[str | None]]:
    out = {}
    for name, values in re.findall(r"`(\w+)` ∈ ([^;`]+)", cell):
        items = [v.strip() for v in values.split(",") if v.strip()]
        out[name] = frozenset(None if v == "null" else v for v in items)
    return out


@lru_cache(maxsize=1)
def contract() -> tuple[ContractDecision, ...]:
    rows = contract_rows(CONTRACT_COPY)
    assert rows, f"no contract table in {CONTRACT_COPY}"
    by_id: dict[str, ContractDecision] = {}
    for decision_id, _tables, inputs, outputs in rows:
        same_as = re.fullmatch(r"as `(\w+)`", outputs.strip())
        if same_as:
            base = by_id[same_as.group(1)]
            out_names, codes = base.outputs, {k: v for k, v in base.codes.items() if k in base.outputs}
        else:
            out_names, codes = frozenset(re.findall(r"`(\w+)`", outputs)), _codes(outputs)
        by_id[decision_id] = ContractDecision(decision_id, frozenset(re.findall(r"`(\w+)`", inputs)), out_names,
                                              {**_codes(inputs), **codes})
    return tuple(by_id.values())
