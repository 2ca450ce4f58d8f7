"""What a form shows a clinician names things in Chinese, never by an identifier: a phone walk found 随访 forms telling
the village doctor the next date is computed "按 htn_follow_up 决策" (the decision table's id)."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO

# the keys whose strings the form renderer shows (schema and uiSchema)
VISIBLE = {"title", "description", "enumNames", "ui:title", "ui:description", "ui:help", "ui:placeholder",
           "ui:enumNames"}
IDENTIFIER = re.compile(r"(?<![A-Za-z0-9])[a-z][a-z0-9]*_[a-z0-9_]+(?![A-Za-z0-9])")   # snake_case: a code's id
FORMS = sorted((REPO / "forms").rglob("*.json"))


def shown_strings(node: Any, key: str | None = None, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from shown_strings(v, k, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from shown_strings(v, key, f"{path}/{i}")
    elif isinstance(node, str) and key in VISIBLE:
        yield path, node


def test_the_forms_are_found():
    assert len(FORMS) > 50


@pytest.mark.parametrize("form", FORMS, ids=lambda p: str(p.relative_to(REPO / "forms")))
def test_a_form_shows_no_identifier(form: Path):
    found = [(path, m) for path, text in shown_strings(json.loads(form.read_text(encoding="utf-8")))
             for m in IDENTIFIER.findall(text)]
    assert not found, f"{form.name} shows identifiers to the clinician: {found}"


def test_an_identifier_in_a_shown_string_is_found():
    form = {"schema": {"description": "由平台按 htn_follow_up 决策计算", "properties": {"a": {"title": "收缩压 mmHg"}}}}
    assert [IDENTIFIER.findall(text) for _path, text in shown_strings(form)] == [["htn_follow_up"], []]
