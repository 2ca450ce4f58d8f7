"""A deleted resident's screening cases go with them (issue 23.4, migration 0057): `screening_cases` has no foreign
key to `residents` any more (its per-row check was ~8 % of a population run's CPU); a trigger on `residents` deletes
the cases in the deleting statement, as the key's ON DELETE CASCADE did. No application code deletes a resident: the
erasure is a DELETE by hand, and every way of issuing it (one resident, several in one statement) is covered."""
from __future__ import annotations

from sqlalchemy import delete, func, inspect, select

from app.core import db
from app.residents.models import Resident
from app.residents.record_models import Observation
from app.screening.models import ScreeningCase
from tests.api.test_screening_chunks import dmn_deployed, synthetic_population  # noqa: F401 (fixture)


def _screened(app) -> dict[int, int]:
    synthetic_population(app, 200)
    from app.screening import batch
    with app.app_context():
        run_id = batch.create_chunked_run(started_by="test", chunk_size=100, enqueue=False).id
        for seq in batch.pending_chunks(run_id):
            batch.screen_chunk(run_id, seq)
        return dict(db.session().execute(select(ScreeningCase.resident_id, func.count())
                                         .group_by(ScreeningCase.resident_id)).all())


def test_deleting_residents_deletes_their_screening_cases_and_no_other(app, dmn_deployed):  # noqa: F811
    per_resident = _screened(app)
    with_cases = sorted(per_resident)
    assert len(with_cases) > 10
    one, several = with_cases[0], with_cases[1:4]
    with app.app_context():
        s = db.session()
        s.execute(delete(Resident).where(Resident.id == one))
        s.execute(delete(Resident).where(Resident.id.in_(several)))           # one statement, several residents
        # in the deleting transaction already, as with the cascade
        assert not s.scalar(select(func.count()).select_from(ScreeningCase)
                            .where(ScreeningCase.resident_id.in_([one, *several])))
        s.commit()
        left = dict(s.execute(select(ScreeningCase.resident_id, func.count())
                              .group_by(ScreeningCase.resident_id)).all())
        assert left == {rid: n for rid, n in per_resident.items() if rid not in {one, *several}}
        # the clinical records still go by their own keys' cascade
        assert not s.scalar(select(func.count()).select_from(Observation)
                            .where(Observation.resident_id.in_([one, *several])))


def test_a_rolled_back_delete_keeps_the_cases(app, dmn_deployed):  # noqa: F811
    per_resident = _screened(app)
    rid = min(per_resident)
    with app.app_context():
        s = db.session()
        s.execute(delete(Resident).where(Resident.id == rid))
        s.rollback()
        assert s.scalar(select(func.count()).select_from(ScreeningCase)
                        .where(ScreeningCase.resident_id == rid)) == per_resident[rid]


def test_screening_cases_have_no_foreign_key_to_residents(app):
    with app.app_context():
        keys = inspect(db.session().connection()).get_foreign_keys("screening_cases")
        assert all(k["referred_table"] != "residents" for k in keys)
