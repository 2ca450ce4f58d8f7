"""The decision pack keeps its promises: the contract, provenance, provable tables, a cases file per decision."""
from __future__ import annotations

import json
import re

import pytest
from clinical_pack import (
    CONTRACT_COPY,
    DMN_DIR,
    SHARED_CONTRACT,
    case_files,
    chain,
    contract,
    contract_rows,
    decisions,
    registry,
)

from app.engine.dmn import analyze, validate_for_deploy

CONTRACT = contract()
# issue 12.6: follow-up control uses the patient's plan targets; absent (null) → the contract's T04b/T05b rule
PLATFORM_EXTENSIONS = {"htn_follow_up": {"target_sbp_lt", "target_dbp_lt"}, "dm_follow_up": {"target_fpg_lt"}}
PROVENANCE_KEYS = ("table", "source", "edition", "section", "confidence")


@pytest.mark.skipif(not SHARED_CONTRACT.exists(), reason="the shared contract is outside this checkout")
def test_the_contract_copy_in_docs_matches_the_shared_contract() -> None:
    assert contract_rows(CONTRACT_COPY) == contract_rows(SHARED_CONTRACT)


def test_every_contract_decision_is_checked() -> None:
    assert len(CONTRACT) == 14


@pytest.mark.parametrize("entry", CONTRACT, ids=lambda c: c.id)
def test_contract_decision_takes_exactly_its_inputs(entry) -> None:  # type: ignore[no-untyped-def]
    """The contract's inputs, plus only the platform extensions below: optional inputs whose default keeps the
    contract's behaviour (a caller that passes the contract's inputs gets the contract's answer)."""
    assert entry.id in registry(), f"contract decision {entry.id} has no dmn/{entry.id}.dmn"
    fields = {f.name: f for f in registry().input_fields(entry.id)}
    extensions = PLATFORM_EXTENSIONS.get(entry.id, set())
    assert set(fields) == entry.inputs | extensions
    assert all(not fields[name].required and fields[name].default is None for name in extensions)


@pytest.mark.parametrize("entry", CONTRACT, ids=lambda c: c.id)
def test_contract_decision_returns_its_outputs(entry) -> None:  # type: ignore[no-untyped-def]
    produced = {name for d in chain(entry.id) for name in d.output_names}
    own = set(registry().get(entry.id).output_names)
    assert entry.outputs <= produced, f"missing outputs {entry.outputs - produced}"
    assert own <= entry.outputs, f"top-level outputs not in the contract: {own - entry.outputs}"


@pytest.mark.parametrize("entry", CONTRACT, ids=lambda c: c.id)
def test_contract_codes_are_exactly_the_declared_values(entry) -> None:  # type: ignore[no-untyped-def]
    outputs = {o.name: o for d in chain(entry.id) for o in d.outputs}
    inputs = {f.name: f for f in registry().input_fields(entry.id)}
    for name, codes in entry.codes.items():
        if name in outputs:
            declared = set(outputs[name].allowed_values or [])
        else:
            declared = {None if v == "null" else v for v in re.findall(r'"([^"]*)"|\bnull\b', inputs[name].allowed)}
        assert declared == set(codes), f"{entry.id}.{name}: declared {declared} vs contract {set(codes)}"


def test_the_whole_pack_deploys() -> None:
    validate_for_deploy(decisions())


@pytest.mark.parametrize("decision", [d for d in decisions() if d.hit_policy in ("UNIQUE", "ANY")],
                         ids=lambda d: d.id)
def test_unique_and_any_tables_have_no_overlap_or_gap(decision) -> None:  # type: ignore[no-untyped-def]
    assert analyze(decision) == []


@pytest.mark.parametrize("decision", decisions(), ids=lambda d: d.id)
def test_decision_carries_provenance(decision) -> None:  # type: ignore[no-untyped-def]
    missing = [k for k in PROVENANCE_KEYS if not decision.provenance.get(k, "").strip()]
    assert not missing, f"{decision.file}: provenance lacks {missing}"
    assert re.fullmatch(r"T\d\d|R\d+[a-z]?", decision.provenance["table"])   # rules.md T-tables, wave2.md R-tables
    assert re.fullmatch(r"[VRP](\+[VRP])*", decision.provenance["confidence"])
    assert decision.description


@pytest.mark.parametrize("decision", decisions(), ids=lambda d: d.id)
def test_decision_id_is_the_file_stem_and_has_a_cases_file(decision) -> None:  # type: ignore[no-untyped-def]
    assert decision.file == f"{decision.id}.dmn"
    assert (DMN_DIR / f"{decision.id}.cases.json").exists()


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.name)
def test_cases_file_names_its_decision_and_sources_every_case(path) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(path.read_text(encoding="utf-8"))
    assert path.name == f"{data['decision']}.cases.json" and data["decision"] in registry()
    names = [c["name"] for c in data["cases"]]
    assert len(names) == len(set(names)), "case names must be unique (they are test ids)"
    for c in data["cases"]:
        assert c["source"] and ("expect" in c) != ("expect_error" in c), c["name"]


@pytest.mark.parametrize("decision", [d for d in decisions() if d.kind == "table"], ids=lambda d: d.id)
def test_ids_are_chosen_by_people(decision) -> None:  # type: ignore[no-untyped-def]
    ids = [decision.table_id] + [r.id for r in decision.rules]
    assert all(i and not re.match(r"(DecisionRule|Decision|InputClause|OutputClause|LiteralExpression)_", i)
               for i in ids)
    assert [r.id for r in decision.rules] == [f"{decision.id}_r{r.index}" for r in decision.rules]
