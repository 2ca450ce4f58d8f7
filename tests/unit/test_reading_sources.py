"""Home readings are told apart from clinical ones by their source."""
from __future__ import annotations

import pytest

from app.residents import sources


@pytest.mark.parametrize(("source", "home", "label"), [
    ("patient", True, "患者自测"), ("vendor:yuwell", True, "家用设备"), ("home:bp", True, "家用设备"),
    ("village", False, "医疗机构"), ("lis", False, "医疗机构"), ("public_health", False, "医疗机构"),
    ("patients_registry", False, "医疗机构"), (None, False, "医疗机构")])
def test_home_sources(source, home, label):
    assert sources.is_home(source) is home
    assert sources.label(source) == label
