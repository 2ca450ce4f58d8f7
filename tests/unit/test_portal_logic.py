"""Pure rules of the resident portal: age for the guardian rule, the referral status a resident sees, the code hash."""
from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from app.portal.consent import PURPOSE_BY_CODE, age_on
from app.portal.queries import referral_step


@pytest.mark.parametrize("born,today,age", [
    (date(2012, 5, 1), date(2026, 4, 30), 13),      # the day before the 14th birthday: still a child
    (date(2012, 5, 1), date(2026, 5, 1), 14),
    (date(2012, 2, 29), date(2026, 2, 28), 13),     # born on 29 February
    (date(1956, 3, 14), date(2026, 12, 4), 70),
])
def test_age_on(born, today, age):
    assert age_on(born, today) == age


def _ref(**kw):
    base = {"status": "offered", "direction": "up", "result_at": None, "arrived_at": None, "accepted_at": None}
    return SimpleNamespace(**(base | kw))


AT = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize("ref,step", [
    (_ref(), "submitted"),
    (_ref(status="accepted", accepted_at=AT), "accepted"),
    (_ref(status="arrived", accepted_at=AT, arrived_at=AT), "visited"),
    (_ref(status="closed", accepted_at=AT, arrived_at=AT, result_at=AT), "returned"),
    (_ref(status="received", direction="down"), "returned"),
    (_ref(status="rejected"), None),
    (_ref(status="cancelled", accepted_at=AT), None),
])
def test_a_resident_sees_four_referral_steps_only(ref, step):
    assert referral_step(ref) == step


def test_only_health_data_is_required_and_every_purpose_has_chinese_text():
    assert [p for p, spec in PURPOSE_BY_CODE.items() if spec.required] == ["health_data"]
    assert all(spec.title and spec.text and spec.channels for spec in PURPOSE_BY_CODE.values())


def _consult(**kw):
    base = {"status": "invited", "report_signed_at": None, "started_at": None, "accepted_at": None}
    return SimpleNamespace(**(base | kw))


@pytest.mark.parametrize("c,step", [
    (_consult(), "submitted"),
    (_consult(status="scheduled", accepted_at=AT), "accepted"),
    (_consult(status="scheduled", accepted_at=AT, started_at=AT), "held"),
    (_consult(status="closed", accepted_at=AT, started_at=AT, report_signed_at=AT), "reported"),
    (_consult(status="declined"), None),
])
def test_a_resident_sees_four_consult_steps_only(c, step):
    from app.portal.queries import consult_step
    assert consult_step(c) == step
