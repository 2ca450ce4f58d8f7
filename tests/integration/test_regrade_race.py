"""Issue 12.2 under real concurrency (PostgreSQL, one connection per thread): 20 simultaneous submissions of different
facts for one resident re-grade that resident one grading at a time — at most one open stratify and one open
care-plan process per disease, no two gradings of the same inputs, and the last grading saw every fact."""
from __future__ import annotations

import os
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.core import clock, db
from app.residents import records
from app.residents.management import enrol
from tests.api.test_screening import MODELS
from tests.helpers import REPO
from tests.test_follow_up_support import make_resident

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="concurrent writers need PostgreSQL")

FACTS = [("2093-3", 6.0, "mmol/L"), ("8280-0", 95, "cm"), ("13965-9", 16, "umol/L"), ("1558-6", 6.3, "mmol/L"),
         ("2085-9", 0.9, "mmol/L"), ("13457-7", 3.6, "mmol/L"), ("8867-4", 76, "/min")] + \
    [("29463-7", 70 + i, "kg") for i in range(13)]


def _deploy(app) -> None:
    from app.workflows.deploy import collect_folder_files, deploy_files
    paths = [REPO / p for p in MODELS] + [REPO / "bpmn" / "care_plan.bpmn", REPO / "dmn"] + [
        REPO / "forms" / p for p in ("screening", "stratify", "cancer_screening", "merge_review", "care_plan")]
    with app.app_context():
        deploy_files(collect_folder_files(REPO, paths), deployed_by="test", source="folder")


def test_twenty_simultaneous_facts_regrade_one_at_a_time(app, county, login_as):
    _deploy(app)
    rid = make_resident(app, born=date(1980, 6, 1), sex="M")          # 46: age is no risk factor
    with app.app_context():
        at = clock.now() - timedelta(days=20)
        for code, value, unit in (("8480-6", 165, "mmHg"), ("8462-4", 100, "mmHg"), ("8302-2", 170, "cm")):
            records.record_observation(rid, code=code, value=value, unit=unit, effective_at=at, source="his",
                                       rescreen=False)
        enrol(rid, disease="htn", icd10="I10", diagnosed_on=clock.today() - timedelta(days=20),
              managing_doctor_user_id=None, village_code="C01T01V01", screening_case_id=None, source="test",
              actor="test")
        from app.screening.stratify import start_grading
        assert start_grading(rid, "htn", reason="enrolled", force=True) is not None   # G2 × C0 → 中危
    village = login_as("village_doctor", org="C01T01V01")
    barrier = threading.Barrier(len(FACTS))
    statuses: list = [None] * len(FACTS)

    def submit(i: int) -> None:
        code, value, unit = FACTS[i]
        client = app.test_client()
        barrier.wait()
        resp = client.post(f"/api/v1/residents/{rid}/observations", headers={"Authorization": f"Bearer {village.token}"},
                           json={"code": code, "value": value, "unit": unit, "source": "village_app",
                                 "effective_at": (clock.now() - timedelta(minutes=len(FACTS) - i)).isoformat()})
        statuses[i] = resp.status_code
        db.remove_session()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(FACTS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert statuses == [201] * len(FACTS)

    from app.residents.record_models import RiskLevel
    from app.screening.bulk import BulkEvaluator
    from app.screening.features import gather
    from app.screening.models import GradingState
    from app.screening.stratify import grading_basis, grading_inputs
    from app.workflows.models import ProcessEvent, ProcessInstance
    with app.app_context():
        s = db.session()

        def open_count(process_id: str) -> int:
            return s.scalar(select(func.count()).select_from(ProcessInstance).where(
                ProcessInstance.process_id == process_id, ProcessInstance.resident_id == rid,
                ProcessInstance.status.notin_(("completed", "terminated"))))
        assert open_count("stratify") <= 1
        assert open_count("care_plan") <= 1
        started = s.scalars(select(ProcessEvent.data).join(ProcessInstance, ProcessInstance.id == ProcessEvent.instance_id)
                            .where(ProcessInstance.process_id == "stratify", ProcessInstance.resident_id == rid,
                                   ProcessEvent.type == "instance_started")).all()
        seen = [repr(sorted(d["data"]["grading_inputs"].items())) for d in started]
        assert len(seen) == len(set(seen)), "two gradings of the same inputs"
        assert 2 <= len(seen) <= len(FACTS) + 1
        # no lost update: the last grading saw every fact (the 3 new risk factors: 中危 → 高危)
        f = gather(0, 0, as_of=clock.today(), ids=[rid])[rid]
        basis = grading_basis(rid, "htn")
        fresh = grading_inputs(f, "htn", BulkEvaluator(s).evaluate, basis)
        state = s.get(GradingState, (rid, "htn"))
        assert state.inputs == {"inputs": fresh, "basis": basis} and not state.dirty
        level = s.scalars(select(RiskLevel).where(RiskLevel.resident_id == rid)).one()
        assert level.inputs == fresh and level.level == "HIGH"
