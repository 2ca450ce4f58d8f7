"""Site script functions (YGT_SCRIPT_EXTENSIONS), as spiff-example-cli's engine adds `lookup_product_info` and
`product_info_from_dict` to its PythonScriptEngine environment: a namedtuple/dataclass a site function returns is
kept in task data as a JSON-safe record whose fields later scripts and gateway conditions read as attributes, across
a user task (saved, reloaded state) and in a service task's post-script. Compared with bare SpiffWorkflow given the
same functions in its environment."""
from __future__ import annotations

import datetime
import json
import pickle

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.util.task import TaskState

import tests.fixtures.operators  # noqa: F401  (registers test/lookup)
from app import create_app
from app.config import Settings
from app.engine.extensions import ScriptExtensionError
from app.engine.sandbox import Record
from app.workflows import bindings
from tests.compat import site_functions
from tests.compat.conftest import model
from tests.compat.harness import BareSpiff, by_process

FILES = model("quote_item.bpmn", "enter_quantity.json")


@pytest.fixture()
def site():
    added = bindings.use_script_extensions(("tests.compat.site_functions",))
    yield added
    bindings.use_script_extensions(())


class _Services(PythonScriptEngine):
    def call_service(self, task, operation_name, operation_params):
        return json.dumps({"found": True, "resident": operation_params["resident"]["value"]})


def _bare(code: str, quantity: int):
    bare = BareSpiff({})
    for name in ("quote_item.bpmn",):
        bare.parser.add_bpmn_str(FILES[name], filename=name)
    bare.engine = _Services(environment=TaskDataEnvironment({"datetime": datetime, **site_functions.SCRIPT_FUNCTIONS}))
    wf = bare.start("quote_item", {"item_code": code})
    [task] = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "enter_quantity"]
    task.data["quantity"] = quantity
    task.run()
    wf.do_engine_steps()
    return wf


@pytest.mark.parametrize(("code", "packing"), [("GLASS-SYRINGE", "padded"), ("GAUZE", "standard")])
def test_site_functions_records_and_post_scripts_run_as_in_bare_spiff(platform, site, code, packing):
    assert site == ["find_item", "stock_record"]
    platform.deploy(FILES)
    platform.start("quote_item", {"item_code": code})
    platform.run([("complete", "enter_quantity", {"quantity": 4})])
    [ours] = by_process(platform.outcomes())["quote_item"]
    price = site_functions.CATALOGUE[code].unit_price
    assert ours.status == "completed", ours
    assert ours.data["packing"] == packing
    assert ours.data["amount"] == 4 * price
    assert ours.data["stocked_code"] == code
    # the records are plain JSON in what the API shows
    assert ours.data["item"] == {"code": code, "fragile": code == "GLASS-SYRINGE", "unit_price": price}
    assert ours.data["stock"] == {"code": code, "found": True}
    bare = _bare(code, 4)
    bare_done = {t.task_spec.bpmn_id for t in bare.get_tasks(state=TaskState.COMPLETED)
                 if getattr(t.task_spec, "bpmn_id", None)}
    assert bare.is_completed() and bare.data["amount"] == ours.data["amount"]
    assert ours.completed == bare_done


def test_without_the_setting_a_site_function_is_an_unknown_name_incident(platform):
    platform.deploy(FILES)
    resp = platform.api.post("/api/v1/process-instances",
                             json={"process_id": "quote_item", "data": {"item_code": "GAUZE"}, "org_code": "C01"})
    assert resp.status_code == 201, resp.json
    [ours] = by_process(platform.outcomes())["quote_item"]
    assert ours.status == "error", ours
    assert ours.extra["error"]["element_id"] == "find"
    assert "find_item" in str(ours.extra["error"])


def test_a_bad_module_name_is_a_clear_start_up_error_naming_it():
    with pytest.raises(ScriptExtensionError) as err:
        bindings.use_script_extensions(("tests.compat.site_functions", "no_such_site.functions"))
    assert err.value.code == "script_extension_import" and "no_such_site.functions" in str(err.value)
    with pytest.raises(ScriptExtensionError) as err:
        bindings.use_script_extensions(("tests.compat.not_a_site_module",))
    assert err.value.code == "script_extension_invalid" and "tests.compat.not_a_site_module" in str(err.value)
    assert "find_item" not in bindings.SCRIPT_HELPERS   # nothing half-applied


def test_a_site_function_may_not_shadow_a_platform_helper(monkeypatch):
    monkeypatch.setitem(site_functions.SCRIPT_FUNCTIONS, "today", lambda: "never")
    with pytest.raises(ScriptExtensionError) as err:
        bindings.use_script_extensions(("tests.compat.site_functions",))
    assert err.value.code == "script_extension_clash" and "'today'" in str(err.value)


def test_the_setting_is_read_from_the_environment_and_checked_at_start_up(monkeypatch, tmp_path):
    monkeypatch.setenv("YGT_SCRIPT_EXTENSIONS", " tests.compat.site_functions , ")
    assert Settings.from_env(data_dir=tmp_path).script_extensions == ("tests.compat.site_functions",)
    monkeypatch.setenv("YGT_SCRIPT_EXTENSIONS", "no_such_site_module")
    with pytest.raises(ScriptExtensionError, match="no_such_site_module"):
        create_app(Settings.from_env(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/x.db"))


def test_a_record_reads_as_attributes_and_pickles_as_itself():
    rec = Record({"price": 2.5})
    assert rec.price == 2.5 and pickle.loads(pickle.dumps(rec)).price == 2.5
    with pytest.raises(AttributeError):
        _ = rec.colour
