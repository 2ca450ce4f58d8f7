"""A service failure travels as a BPMN error (spiff-example-cli's event_handler set: a service task inside a
subprocess whose error boundary sits on the subprocess and names the error the service raises): caught by the
innermost enclosing boundary that names it by `errorCode` or by the `bpmn:error`'s name; nothing catching it is an
incident. Compared with bare SpiffWorkflow throwing the same error from the same task, as the tutorial's engine
does."""
from __future__ import annotations

import datetime
import json

import pytest
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState

import tests.fixtures.operators  # noqa: F401  (registers test/lookup: resident DOWN raises lookup_down)
from tests.compat.conftest import model
from tests.compat.harness import BareSpiff, by_process

FILES = model("fetch_history.bpmn")


class _Unavailable(Exception):
    pass


class _Services(PythonScriptEngine):
    """The application's service call: an answer (JSON text, as Spiff's service task reads it) or a failure."""

    def call_service(self, task, operation_name, operation_params):
        resident = operation_params["resident"]["value"]
        if resident == "DOWN":
            raise _Unavailable(resident)
        return json.dumps({"found": True, "resident": resident})


class _ErrorThrowingServiceTask(ServiceTask):
    """A service task whose failure is thrown into the workflow as the BPMN error the service raises (as the
    tutorial's event_handler engine does), instead of failing the task."""

    def _execute(self, my_task):
        try:
            return super()._execute(my_task)
        except _Unavailable:
            pass
        error = ErrorEventDefinition("lookup_down", code="503")
        my_task.workflow.top_workflow.catch(BpmnEvent(error, {"code": "lookup_down"}, target=my_task.workflow))
        return False


def _bare(resident_key: str):
    bare = BareSpiff({})
    bare.parser.OVERRIDE_PARSER_CLASSES = {**bare.parser.OVERRIDE_PARSER_CLASSES,
                                           full_tag("serviceTask"): (ServiceTaskParser, _ErrorThrowingServiceTask)}
    bare.parser.add_bpmn_str(FILES["fetch_history.bpmn"], filename="fetch_history.bpmn")
    bare.engine = _Services(environment=TaskDataEnvironment({"datetime": datetime}))
    return bare.start("fetch_history", {"resident_key": resident_key})


@pytest.mark.parametrize(("resident_key", "outcome"), [("R1", "found"), ("DOWN", "manual")])
def test_the_error_leaves_the_subprocess_to_its_boundary_as_in_bare_spiff(platform, resident_key, outcome):
    platform.deploy(FILES)
    platform.start("fetch_history", {"resident_key": resident_key})
    [ours] = by_process(platform.outcomes())["fetch_history"]
    bare = _bare(resident_key)
    bare_done = {t.task_spec.bpmn_id for t in bare.get_tasks(state=TaskState.COMPLETED)
                 if getattr(t.task_spec, "bpmn_id", None)}
    assert (ours.status, ours.data.get("outcome")) == ("completed", outcome), ours
    assert bare.is_completed() and bare.data.get("outcome") == outcome
    assert ours.completed == bare_done


def test_an_error_nothing_names_is_an_incident(platform):
    files = {"fetch_history.bpmn": FILES["fetch_history.bpmn"].replace(b'name="lookup_down" errorCode="503"',
                                                                         b'name="his_timeout" errorCode="504"')}
    platform.deploy(files)
    platform.start("fetch_history", {"resident_key": "DOWN"})
    [ours] = by_process(platform.outcomes())["fetch_history"]
    assert ours.status == "error", ours
    assert ours.extra["error"]["element_id"] == "his_lookup"
