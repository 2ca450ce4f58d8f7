"""Drive one scenario two ways and compare: through the platform's API, and in bare SpiffWorkflow 3.2 set up the
way spiff-example-cli sets it up (SpiffBpmnParser, `TaskDataEnvironment({"datetime": datetime})`).

A scenario is a start (process id + data) and steps:
  ("complete", element_id, data)      complete the open user/manual task of that element
  ("message", name, payload)          an external message (a signed webhook on the platform)
  ("advance", timedelta)              move the clock (the platform's clock control; a fake clock in bare runs)
Both runs report, per process, the elements that completed and the data the instance ended with.
"""
from __future__ import annotations

import datetime as datetime_module
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.webhooks.signature import sign

Step = tuple


@dataclass
class Outcome:
    """What one process instance did: elements completed (a set: parallel branches have no order) and end data."""

    process_id: str
    completed: set[str]
    data: dict[str, Any]
    status: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def comparable(self, keys: Sequence[str]) -> tuple[set[str], dict[str, Any]]:
        return self.completed, {k: self.data.get(k) for k in keys}


# -- bare SpiffWorkflow -------------------------------------------------------------------------------------------

class _FakeNow(datetime_module.datetime):
    offset = timedelta(0)

    @classmethod
    def now(cls, tz=None):
        real = datetime_module.datetime.now(tz or UTC) + cls.offset
        return real if tz else real.replace(tzinfo=None)


def _definitions(ed) -> list[Any]:
    return list(getattr(ed, "event_definitions", None) or ([ed] if ed is not None else []))


class BareSpiff:
    """Several workflows of one parser, with thrown messages routed between them as an application would."""

    def __init__(self, files: Mapping[str, bytes]):
        self.parser = SpiffBpmnParser()
        for name, data in files.items():
            if name.endswith(".bpmn"):
                self.parser.add_bpmn_str(data, filename=name)
            elif name.endswith(".dmn"):
                self.parser.add_dmn_str(data, filename=name)
        self.engine = PythonScriptEngine(environment=TaskDataEnvironment({"datetime": datetime_module}))
        self.workflows: list[BpmnWorkflow] = []

    def start(self, process_id: str, data: Mapping[str, Any] | None = None) -> BpmnWorkflow:
        wf = BpmnWorkflow(self.parser.get_spec(process_id), self.parser.get_subprocess_specs(process_id),
                          script_engine=self.engine)
        wf.get_next_task(state=TaskState.READY).data.update(dict(data or {}))
        self.workflows.append(wf)
        self._run()
        return wf

    def run(self, steps: Sequence[Step]) -> None:
        for step in steps:
            getattr(self, f"_{step[0]}")(*step[1:])
            self._run()

    def _complete(self, element_id: str, data: Mapping[str, Any]) -> None:
        for wf in self.workflows:
            for task in wf.get_tasks(state=TaskState.READY, manual=True):
                if task.task_spec.bpmn_id == element_id:
                    task.set_data(**dict(data))
                    task.run()
                    return
        raise LookupError(f"no ready task {element_id}")

    def _message(self, name: str, payload: Mapping[str, Any]) -> None:
        self._deliver(name, dict(payload))

    def _advance(self, delta: timedelta) -> None:
        _FakeNow.offset += delta

    def _deliver(self, name: str, payload: dict[str, Any]) -> bool:
        for wf in self.workflows:
            for task in wf.get_tasks(state=TaskState.WAITING):
                for ed in _definitions(getattr(task.task_spec, "event_definition", None)):
                    if isinstance(ed, MessageEventDefinition) and ed.name == name:
                        correlations = ed.calculate_correlations(self.engine, ed.correlation_properties, payload)
                        event = BpmnEvent(ed, payload, correlations)
                        if task.task_spec.event_definition.catches(task, event):
                            wf.send_event(event)
                            return True
        for process_id in self.parser.get_process_ids():
            spec = self.parser.get_spec(process_id)
            starts = [ts for ts in spec.task_specs.values() if type(ts).__name__ == "StartEvent"]
            for ts in starts:
                for ed in _definitions(getattr(ts, "event_definition", None)):
                    if isinstance(ed, MessageEventDefinition) and ed.name == name:
                        wf = BpmnWorkflow(spec, self.parser.get_subprocess_specs(process_id), script_engine=self.engine)
                        self.workflows.append(wf)
                        wf.do_engine_steps()
                        wf.send_event(BpmnEvent(ed, payload, {}))
                        return True
        return False

    def _run(self) -> None:
        for _ in range(20):
            for wf in list(self.workflows):
                wf.refresh_timers()
                wf.do_engine_steps()
            thrown = [(wf, ev) for wf in self.workflows for ev in wf.get_events()]
            if not thrown:
                return
            for _wf, ev in thrown:
                if isinstance(ev.event_definition, MessageEventDefinition):
                    self._deliver(ev.event_definition.name, ev.payload)

    def outcomes(self) -> list[Outcome]:
        out = []
        for wf in self.workflows:
            completed = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
                         if getattr(t.task_spec, "bpmn_id", None)}
            data = dict(wf.data) if wf.is_completed() else dict(wf.last_task.data if wf.last_task else {})
            out.append(Outcome(wf.spec.name, completed, data, "completed" if wf.is_completed() else "waiting"))
        return out


def run_bare(files: Mapping[str, bytes], process_id: str | None, start_data: Mapping[str, Any] | None,
             steps: Sequence[Step]) -> list[Outcome]:
    """The scenario in bare SpiffWorkflow, on a fake clock that starts at the real time."""
    original, _FakeNow.offset = timer_module.datetime, timedelta(0)
    timer_module.datetime = _FakeNow
    try:
        bare = BareSpiff(files)
        if process_id:
            bare.start(process_id, start_data)
        bare.run(steps)
        return bare.outcomes()
    finally:
        timer_module.datetime = original


# -- the platform, through its API --------------------------------------------------------------------------------

class Platform:
    """The same scenario through HTTP: deploy, start, complete tasks, signed webhooks, the clock control."""

    def __init__(self, api, client, webhook_creds: dict[str, str]):
        self.api, self.client, self.creds = api, client, webhook_creds
        self.instances: list[int] = []

    def deploy(self, files: Mapping[str, bytes]) -> dict:
        resp = self.api.post("/api/v1/process-definitions",
                             data={"file": [(io.BytesIO(v), k) for k, v in files.items()]},
                             content_type="multipart/form-data")
        assert resp.status_code == 201, resp.json
        return resp.json

    def start(self, process_id: str, data: Mapping[str, Any] | None = None, org_code: str = "C01") -> dict:
        resp = self.api.post("/api/v1/process-instances",
                             json={"process_id": process_id, "data": dict(data or {}), "org_code": org_code})
        assert resp.status_code == 201, resp.json
        self.instances.append(resp.json["id"])
        return resp.json

    def run(self, steps: Sequence[Step]) -> list[dict]:
        return [getattr(self, f"_{step[0]}")(*step[1:]) for step in steps]

    def _complete(self, element_id: str, data: Mapping[str, Any], *, api=None) -> dict:
        api = api or self.api
        task = self.open_task(element_id)
        resp = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": dict(data)})
        assert resp.status_code == 200, resp.json
        return resp.json

    def _message(self, name: str, payload: Mapping[str, Any]):
        resp = self.send(name, payload)
        assert resp.status_code in (200, 202), resp.get_json()
        body = resp.get_json()
        self.instances += [i for i in body.get("started_instances", []) if i not in self.instances]
        return body

    def _advance(self, delta: timedelta) -> dict:
        resp = self.api.post("/api/v1/clock", json={"minutes": delta.total_seconds() / 60})
        assert resp.status_code == 200, resp.json
        return resp.json

    def send(self, name: str, payload: Mapping[str, Any]):
        body = json.dumps(dict(payload))
        webhook_id, ts = f"msg_{uuid.uuid4().hex}", int(datetime_module.datetime.now(UTC).timestamp())
        headers = {"X-Client-Id": self.creds["client_id"], "webhook-id": webhook_id, "webhook-timestamp": str(ts),
                   "webhook-signature": sign(self.creds["secret"], webhook_id, ts, body),
                   "Content-Type": "application/json"}
        return self.client.post(f"/api/v1/webhooks/messages/{name}", data=body.encode(), headers=headers)

    def open_task(self, element_id: str) -> dict:
        for inst_id in self.all_instances():
            for task in self.api.get(f"/api/v1/process-instances/{inst_id}").json["open_tasks"]:
                if task["element_id"] == element_id:
                    return task
        raise LookupError(f"no open task {element_id}")

    def all_instances(self) -> list[int]:
        items = self.api.get("/api/v1/process-instances?per_page=100").json["items"]
        return sorted({i["id"] for i in items} | set(self.instances))

    def outcomes(self) -> list[Outcome]:
        out = []
        for inst_id in self.all_instances():
            detail = self.api.get(f"/api/v1/process-instances/{inst_id}").json
            data = detail.get("result") or {}
            out.append(Outcome(detail["process_id"], set(detail["diagram"]["completed"]), data, detail["status"],
                               {"id": inst_id, "error": detail.get("error")}))
        return out


def by_process(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    grouped: dict[str, list[Outcome]] = {}
    for o in outcomes:
        grouped.setdefault(o.process_id, []).append(o)
    return grouped
