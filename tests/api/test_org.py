"""The organization tree: creation rules, subtree and ancestor queries, the scope filter, the list endpoint."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.principal import Principal
from app.core.errors import DomainError
from app.org import queries, services
from app.org.models import Organization
from app.org.scope import org_code_scope_filter, org_scope_filter


@pytest.fixture()
def ctx(app, org_tree):
    with app.app_context():
        yield


def _principal(role: str, org_code: str, org_path: str, resident_id: int | None = None) -> Principal:
    return Principal(user_id=1, username="u", roles=frozenset({role}), org_code=org_code, org_path=org_path,
                     resident_id=resident_id)


def test_a_village_gets_the_materialized_path_of_its_ancestors(ctx):
    assert queries.get_org("C01T01V02").path == "/C01/C01T01/C01T01V02/"


def test_subtree_codes_are_the_org_and_everything_below(ctx):
    assert queries.subtree_codes("C01T01") == ["C01T01", "C01T01V01", "C01T01V02"]


def test_ancestors_run_from_the_root_down(ctx):
    assert [o.code for o in queries.ancestors("C01T01V02")] == ["C01", "C01T01"]


def test_township_of_a_village_is_its_parent_and_of_a_township_itself(ctx):
    assert queries.township_of("C01T02V01").code == "C01T02"
    assert queries.township_of("C01T02").code == "C01T02"
    assert queries.township_of("C01D01") is None


def test_village_orgs_lists_every_village_or_those_below_an_org(ctx):
    assert [o.code for o in queries.village_orgs()] == ["C01T01V01", "C01T01V02", "C01T02V01"]
    assert [o.code for o in queries.village_orgs(under="C01T02")] == ["C01T02V01"]


def test_a_duplicate_code_is_rejected(ctx):
    with pytest.raises(DomainError) as exc:
        services.create_org("C01T01", "重复", level="township", parent_code="C01")
    assert exc.value.code == "duplicate_org"


def test_a_village_must_sit_under_a_township(ctx):
    with pytest.raises(DomainError) as exc:
        services.create_org("C01V99", "错位村", level="village", parent_code="C01")
    assert exc.value.code == "invalid_org_level"


def test_codes_with_like_wildcards_are_refused(ctx):
    with pytest.raises(DomainError) as exc:
        services.create_org("C01_T9", "通配", level="township", parent_code="C01")
    assert exc.value.code == "invalid_org_code"


@pytest.mark.parametrize("role,org,path,expected", [
    ("village_doctor", "C01T01V01", "/C01/C01T01/C01T01V01/", {"C01T01V01"}),
    ("township_doctor", "C01T01", "/C01/C01T01/", {"C01T01", "C01T01V01", "C01T01V02"}),
    ("county_admin", "C01", "/C01/", None),
    ("patient", "C01T01V01", "/C01/C01T01/C01T01V01/", set()),
])
def test_the_scope_filter_selects_the_principals_subtree(ctx, role, org, path, expected):
    from app.core.db import session
    principal = _principal(role, org, path)
    by_path = set(session().scalars(select(Organization.code).where(org_scope_filter(Organization.path, principal))))
    by_code = set(session().scalars(select(Organization.code)
                                    .where(org_code_scope_filter(Organization.code, principal))))
    everything = set(session().scalars(select(Organization.code)))
    assert by_path == by_code == (everything if expected is None else expected)


def test_the_organization_list_gives_code_name_level_and_parent(client_as):
    orgs = client_as("township_doctor", org="C01T01").get("/api/v1/organizations").get_json()
    assert {"code": "C01T01V02", "name": "下湾村卫生室", "level": "village", "parent_code": "C01T01"}.items() \
        <= next(o for o in orgs if o["code"] == "C01T01V02").items()


def test_the_county_sees_the_whole_tree_in_tree_order(client_as):
    codes = [o["code"] for o in client_as("county_admin").get("/api/v1/organizations").get_json()]
    assert codes == ["C01", "C01D01", "C01T01", "C01T01V01", "C01T01V02", "C01T02", "C01T02V01"]


def test_the_organization_list_filters_by_level_and_subtree(client_as):
    admin = client_as("county_admin")
    villages = admin.get("/api/v1/organizations", query_string={"level": "village", "under": "C01T01"}).get_json()
    assert [o["code"] for o in villages] == ["C01T01V01", "C01T01V02"]


def test_a_subtree_outside_the_scope_lists_nothing(client_as):
    doctor = client_as("township_doctor", org="C01T01")
    assert doctor.get("/api/v1/organizations", query_string={"under": "C01T02"}).get_json() == []


def test_row_scope_lets_a_patient_see_rows_about_themselves_only(app, make_resident):
    from app.core.db import session
    from app.org.scope import row_scope_filter
    from app.residents.models import Resident
    own, neighbour = make_resident(), make_resident(name="王秀兰", sex="F")
    patient = _principal("patient", "C01T01V01", "/C01/C01T01/C01T01V01/", resident_id=own["id"])
    with app.app_context():
        by_path = session().scalars(select(Resident.id).where(
            row_scope_filter(patient, org_path=Resident.org_path, resident_id=Resident.id))).all()
        by_code = session().scalars(select(Resident.id).where(
            row_scope_filter(patient, org_code=Resident.org_code, resident_id=Resident.id))).all()
    assert by_path == by_code == [own["id"]] and neighbour["id"] not in by_path
