"""The one intake of clinical facts (issue 15.2): a submission is validated whole before anything is written,
de-duplicated by client id, written in one transaction and announced by one "facts recorded" event."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.core.db import unit_of_work
from app.core.errors import Invalid, NotFound
from app.jobs import queue
from app.residents import intake
from app.residents.record_models import Condition, Encounter, Medication, Observation
from app.workflows import hooks

AT = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)


@pytest.fixture()
def resident(make_resident):
    return make_resident(org="C01T01V01", name="王秀英", sex="F")


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    """The jobs queued after commit (kept, not run: no decision is deployed here)."""
    jobs: list[tuple[str, tuple, str | None]] = []
    monkeypatch.setattr(queue, "enqueue", lambda func, *args, job_id=None, **_: jobs.append((func, args, job_id)))
    return jobs


@pytest.fixture()
def events(monkeypatch):
    """Every RESIDENT_FACTS_RECORDED emitted (the real reactions still run)."""
    seen: list[dict] = []
    emit = hooks.emit

    def spy(event, **payload):
        if event == hooks.RESIDENT_FACTS_RECORDED:
            seen.append(payload)
        emit(event, **payload)
    monkeypatch.setattr(hooks, "emit", spy)
    return seen


def _visit(client: str = "v1") -> list[intake.Fact]:
    return [intake.EncounterFact(kind="outpatient", started_at=AT, org_code=None, diagnoses=("i10",),
                                 client_id=f"{client}:enc"),
            intake.ObservationFact(code="8480-6", value=152, unit="mmHg", effective_at=AT, client_id=f"{client}:sbp"),
            intake.ObservationFact(code="8462-4", value=95, unit="mmHg", effective_at=AT, client_id=f"{client}:dbp"),
            intake.ConditionFact(icd10="I10", onset_on=date(2026, 3, 1), client_id=f"{client}:dx"),
            intake.MedicationFact(drug=" amlodipine ", dose="5mg", frequency="qd", client_id=f"{client}:rx")]


def _counts(app) -> dict[str, int]:
    with app.app_context(), unit_of_work() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (Observation, Condition, Encounter, Medication)}


def test_one_submission_writes_every_fact_and_emits_one_event(app, resident, events):
    with app.app_context():
        done = intake.submit(resident["id"], _visit(), source="his", actor="his-app")
    assert [item.record_type for item in done.items] == ["encounter", "observation", "observation", "condition",
                                                        "medication"]
    assert done.created and all(item.created for item in done.items)
    assert done.rows[0].diagnoses == ["I10"] and done.rows[4].drug == "amlodipine"
    assert len(events) == 1
    assert events[0]["resident_id"] == resident["id"] and events[0]["source"] == "his"
    assert events[0]["actor"] == "his-app" and events[0]["rescreen"] is True
    assert [item.row.id for item in events[0]["recorded"]] == [row.id for row in done.rows]


def test_a_resent_submission_answers_the_first_rows_and_emits_nothing(app, resident, events):
    with app.app_context():
        first = intake.submit(resident["id"], _visit(), source="his")
        again = intake.submit(resident["id"], _visit(), source="his")
    assert [row.id for row in again.rows] == [row.id for row in first.rows]
    assert not again.created and len(events) == 1
    assert _counts(app) == {"observations": 2, "conditions": 1, "encounters": 1, "medications": 1}


def test_a_partly_known_submission_adds_only_the_new_facts(app, resident, events):
    new = intake.ObservationFact(code="8867-4", value=72, unit="/min", effective_at=AT, client_id="v1:hr")
    with app.app_context():
        intake.submit(resident["id"], _visit(), source="his")
        again = intake.submit(resident["id"], [*_visit(), new], source="his")
    assert [item.created for item in again.items] == [False] * 5 + [True]
    assert len(events) == 2 and [item.record_type for item in events[1]["recorded"]] == ["observation"]


def test_a_known_client_id_is_answered_before_its_fact_is_validated_again(app, resident):
    fact = intake.ObservationFact(code="8480-6", value=140, unit="mmHg", effective_at=AT, client_id="phone-9")
    with app.app_context():
        first = intake.submit(resident["id"], [fact], source="village_app")
        again = intake.submit(resident["id"], [intake.ObservationFact(code="8480-6", value=140, unit="kPa",
                                                                      effective_at=AT, client_id="phone-9")],
                              source="village_app")
    assert again.rows[0].id == first.rows[0].id and not again.created


@pytest.mark.parametrize(("bad", "code", "field"), [
    (intake.ObservationFact(code="99999-9", value=1, unit=None, effective_at=AT), "unknown_code", None),
    (intake.ObservationFact(code="8480-6", value=140, unit="kPa", effective_at=AT), "invalid_unit", None),
    (intake.ObservationFact(code="8480-6", value=140, unit="mmHg", effective_at=datetime(2026, 3, 1)),
     "invalid_value", "effective_at"),
    (intake.ObservationFact(code="8480-6", value=140, unit="mmHg", effective_at=AT, abnormal_flag="X"),
     "invalid_value", "abnormal_flag"),
    (intake.ConditionFact(icd10="hypertension"), "invalid_icd10", "icd10"),
    (intake.ConditionFact(icd10="I10", status="maybe"), "invalid_value", "status"),
    (intake.EncounterFact(kind="teleport", started_at=AT), "invalid_value", "kind"),
    (intake.EncounterFact(kind="outpatient", started_at=AT, diagnoses=("I10", "??")), "invalid_icd10", "icd10"),
    (intake.MedicationFact(drug="  "), "validation_error", "drug"),
    (intake.MedicationFact(drug="metformin", status="paused"), "invalid_value", "status"),
])
def test_one_bad_fact_rejects_the_whole_submission_with_its_code_and_place(app, resident, events, bad, code,
                                                                            field):
    with app.app_context(), pytest.raises(Invalid) as raised:
        intake.submit(resident["id"], [*_visit(), bad], source="his")
    assert raised.value.code == code and raised.value.fact_index == 5
    if field:
        assert raised.value.details["field"] == field
    assert _counts(app) == {"observations": 0, "conditions": 0, "encounters": 0, "medications": 0}
    assert events == []


def test_check_validates_without_writing(app, resident):
    with app.app_context():
        intake.check(intake.ConditionFact(icd10="e11.9"))
        with pytest.raises(Invalid) as raised:
            intake.check(intake.ConditionFact(icd10="E1"))
    assert raised.value.code == "invalid_icd10"
    assert _counts(app)["conditions"] == 0


def test_an_empty_source_is_a_validation_error(app, resident):
    with app.app_context(), pytest.raises(Invalid) as raised:
        intake.submit(resident["id"], _visit(), source=" ")
    assert raised.value.code == "validation_error" and raised.value.details["field"] == "source"


def test_a_client_id_of_another_resident_is_409_and_nothing_of_the_submission_is_written(app, make_resident,
                                                                                         resident, events):
    other = make_resident(org="C01T01V01", name="李四", born=date(1970, 1, 1))
    with app.app_context():
        intake.submit(resident["id"], _visit()[:1], source="his")
        with pytest.raises(intake.ClientIdConflict) as raised:
            intake.submit(other["id"], [_visit("mine")[1], _visit()[0]], source="his")
    assert raised.value.status == 409 and raised.value.code == "client_id_conflict"
    assert _counts(app)["observations"] == 0 and len(events) == 1


def test_an_unknown_resident_is_404_and_nothing_is_written(app, events):
    with app.app_context(), pytest.raises(NotFound):
        intake.submit(987654, _visit(), source="his")
    assert _counts(app)["encounters"] == 0 and events == []


def test_a_submission_without_rescreen_says_so_in_its_event(app, resident, events):
    with app.app_context():
        intake.submit(resident["id"], _visit()[3:4], source="enrolment", rescreen=False)
    assert events[0]["rescreen"] is False


def test_an_empty_submission_writes_and_emits_nothing(app, resident, events):
    with app.app_context():
        done = intake.submit(resident["id"], [], source="his")
    assert done.items == [] and not done.created and events == []


def test_a_submission_rescreens_its_resident_once_after_commit(app, resident, queued):
    with app.app_context():
        done = intake.submit(resident["id"], _visit(), source="his")
    assert queued == [("app.screening.jobs.screen_resident", (resident["id"],),
                       f"screen-{resident['id']}-encounter.create-{done.rows[0].id}")]


def test_prescriptions_alone_and_submissions_without_rescreen_queue_no_rescreen(app, resident, queued):
    with app.app_context():
        intake.submit(resident["id"], _visit()[4:], source="his")
        intake.submit(resident["id"], _visit()[:4], source="enrolment", rescreen=False)
    assert queued == []
