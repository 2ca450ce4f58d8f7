"""Every form in `forms/` has a sample in `tests/fixtures/form_samples.json` (a valid submission and one invalid
field), and the server's validation agrees with it. The UI's Vitest (`ui/src/components/form/validator.test.ts`)
checks the browser validator against the same samples, and the browser story `tests/e2e/forms.mjs` submits them:
one dialect (JSON Schema 2020-12) end to end (issue 12.10)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from app.tasks.forms import validate

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = json.loads((ROOT / "tests" / "fixtures" / "form_samples.json").read_text(encoding="utf-8"))
FORMS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "forms").rglob("*.json"))
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_of(rel: str) -> dict:
    return json.loads((ROOT / rel).read_text(encoding="utf-8"))["schema"]


def with_invalid(sample: dict) -> dict:
    """The valid submission with the one named field made invalid (a bad value, or left out)."""
    data = copy.deepcopy(sample["valid"])
    parts = sample["invalid"]["field"].split(".")
    node = data
    for part in parts[:-1]:
        node = node[part]
    if sample["invalid"].get("missing"):
        del node[parts[-1]]
    else:
        node[parts[-1]] = sample["invalid"]["value"]
    return data


def test_every_form_has_a_sample():
    assert sorted(SAMPLES) == FORMS


@pytest.mark.parametrize("rel", FORMS)
def test_form_declares_the_one_dialect(rel):
    # the server validates with the class `$schema` names (2020-12 when none); the UI's validator is ajv's 2020 class
    assert schema_of(rel).get("$schema", DIALECT) == DIALECT


@pytest.mark.parametrize("rel", FORMS)
def test_server_accepts_the_valid_sample_and_refuses_the_invalid_field(rel):
    schema, sample = schema_of(rel), SAMPLES[rel]
    assert validate(schema, sample["valid"]) == []
    errors = validate(schema, with_invalid(sample))
    assert errors and {e["field"] for e in errors} == {sample["invalid"]["field"]}
