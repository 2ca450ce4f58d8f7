"""A deployment is one atomic, validated unit: no upload, good or bad, can break later deploys or the CLI."""
from __future__ import annotations

import io

from tests.bpmn_builder import (
    call,
    chain,
    definitions,
    form,
    process,
    script,
    subprocess,
    user,
)
from tests.helpers import REPO


def _upload(api, files, url="/api/v1/process-definitions"):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return api.post(url, data=data, content_type="multipart/form-data")


def _two_processes(first: str, second: str, *, label: str = "") -> bytes:
    return definitions(process(first, chain(script(f"{first}_s", f"x = '{label}'"), prefix=f"{first}_")),
                       process(second, chain(script(f"{second}_s", "y = 1"), prefix=f"{second}_")))


def test_a_file_redefining_a_process_of_another_file_keeps_every_later_deploy_working(login_as):
    owner = login_as("process_owner")
    assert _upload(owner, [("a.bpmn", _two_processes("p", "q"))]).status_code == 201
    second = _upload(owner, [("b.bpmn", _two_processes("p", "r", label="b"))])
    assert second.status_code == 201, second.json
    assert {(d["process_id"], d["version"]) for d in second.json["deployed"]} == {("p", 2), ("r", 1)}
    assert any("a.bpmn" in w and "b.bpmn" in w for w in second.json["warnings"])
    later = _upload(owner, [("c.bpmn", definitions(process("s", chain(script("s_s", "z = 1")))))])
    assert later.status_code == 201, later.json
    check = _upload(owner, [("c.bpmn", definitions(process("s", chain(script("s_s", "z = 2")))))],
                    url="/api/v1/process-definitions/validate")
    assert check.status_code == 200, check.json
    for pid in ("p", "q", "r", "s"):
        inst = owner.post("/api/v1/process-instances", json={"process_id": pid, "org_code": "C01"}).json
        assert inst["status"] == "completed", (pid, inst)


def test_the_cli_deploy_keeps_working_after_conflicting_uploads(app, login_as):
    from app.workflows.deploy import collect_folder_files, deploy_files
    owner = login_as("process_owner")
    _upload(owner, [("a.bpmn", _two_processes("p", "q"))])
    _upload(owner, [("b.bpmn", _two_processes("p", "r"))])
    with app.app_context():
        result = deploy_files(collect_folder_files(REPO), deployed_by="cli", source="folder")
    assert {"screening", "follow_up"} <= {d["process_id"] for d in result.processes}


def test_two_files_of_one_upload_defining_the_same_process_conflict_naming_both(login_as):
    owner = login_as("process_owner")
    resp = _upload(owner, [("a.bpmn", _two_processes("p", "q")), ("b.bpmn", _two_processes("p", "r"))])
    assert resp.status_code == 409, resp.json
    assert resp.json["code"] == "duplicate_process_id"
    assert resp.json["details"]["process_id"] == "p"
    assert sorted(resp.json["details"]["files"]) == ["a.bpmn", "b.bpmn"]
    assert owner.get("/api/v1/process-definitions").json["total"] == 0


def test_an_embedded_subprocess_may_share_its_id_with_a_deployed_process(login_as):
    owner = login_as("process_owner")
    assert _upload(owner, [("review.bpmn", definitions(process("review", chain(script("r", "who = 'top'")))))]
                   ).status_code == 201
    outer = definitions(process("outer", chain(subprocess("review", script("inner", "who = 'embedded'")))))
    resp = _upload(owner, [("outer.bpmn", outer)])
    assert resp.status_code == 201, resp.json
    inst = owner.post("/api/v1/process-instances", json={"process_id": "outer", "org_code": "C01"}).json
    assert inst["status"] == "completed" and inst["result"]["who"] == "embedded"
    # and the other way round: a new process whose id an embedded subprocess already uses
    resp = _upload(owner, [("inner.bpmn", definitions(process("inner", chain(script("i", "who = 'x'")))))])
    assert resp.status_code == 201, resp.json


def test_a_user_task_naming_a_missing_form_is_refused_naming_the_task(login_as):
    owner = login_as("process_owner")
    bpmn = definitions(process("intake", chain(user("record_visit", "记录随访", form="record_visit.json"))))
    resp = _upload(owner, [("intake.bpmn", bpmn)])
    assert resp.status_code == 422
    assert resp.json["code"] == "invalid_definition"
    assert resp.json["details"]["element_id"] == "record_visit"
    assert (resp.json["details"]["problem"], resp.json["details"]["form"]) == ("form_missing", "record_visit.json")
    assert "record_visit.json" in resp.json["message"]
    checked = _upload(owner, [("intake.bpmn", bpmn)], url="/api/v1/process-definitions/validate")
    assert (checked.status_code, checked.json["details"]["problem"]) == (422, "form_missing")
    assert owner.get("/api/v1/process-definitions/intake").status_code == 404
    assert _upload(owner, [("intake.bpmn", bpmn), ("record_visit.json", form("note"))]).status_code == 201


def test_a_bpmn_uploaded_again_alone_keeps_the_forms_of_the_version_it_replaces(login_as):
    owner = login_as("process_owner")
    bpmn = definitions(process("intake", chain(user("record_visit", "记录随访", form="record_visit.json"))))
    _upload(owner, [("intake.bpmn", bpmn), ("record_visit.json", form("note"))])
    renamed = bpmn.replace("记录随访".encode(), "记录本次随访".encode())
    resp = _upload(owner, [("intake.bpmn", renamed)])
    assert resp.status_code == 201, resp.json
    assert resp.json["deployed"][0]["version"] == 2
    forms = owner.get("/api/v1/process-definitions/intake/versions/2/forms").json
    assert list(forms["intake/record_visit"]["schema"]["properties"]) == ["note"]


def test_a_reformatted_but_unchanged_model_makes_no_new_version(login_as):
    owner = login_as("process_owner")
    bpmn = definitions(process("tidy", chain(script("s", "x = 1"))))
    _upload(owner, [("tidy.bpmn", bpmn)])
    reformatted = bpmn.replace(b"\n", b"\n    ").replace(b'id="tidy" name="tidy"', b'name="tidy"  id="tidy"')
    resp = _upload(owner, [("tidy.bpmn", reformatted)])
    assert resp.json["deployed"] == [{"process_id": "tidy", "version": 1, "changed": False}]


def test_a_call_activity_to_a_process_deployed_earlier_resolves_without_its_file(login_as):
    owner = login_as("process_owner")
    _upload(owner, [("child.bpmn", definitions(process("child", chain(script("c", "got = 'v1'")))))])
    resp = _upload(owner, [("parent.bpmn", definitions(process("parent", chain(call("run_child", "child")))))])
    assert resp.status_code == 201, resp.json
    missing = _upload(owner, [("orphan.bpmn", definitions(process("orphan", chain(call("x", "nowhere")))))])
    assert missing.status_code == 422 and missing.json["details"]["element_id"] == "x"
    assert "nowhere" in missing.json["message"]
