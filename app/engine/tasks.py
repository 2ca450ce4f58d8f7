"""Our task-spec classes, their parsers and serializer converters.

* `OutboxServiceTask`: a service task never calls out while the instance is locked. It evaluates its parameters,
  records the call in `internal_data` and stays STARTED; the app writes an outbox row in the same transaction and a
  job completes (or fails) the task later (ENGINE_NOTES §5.8). This also sidesteps the 3.2.0 `call_service` bug.
* `DecisionTask`: a business-rule task evaluated by our own DMN engine (`app.engine.dmn`), so a process and the
  evaluate API can never disagree (real hit policies, trace, pinned decision versions).
* `ResolvingCallActivity`: a call activity whose callee is found when it is called (by the environment's callee
  resolver: latest version by default, or the version the deployment pinned), not baked into the caller's spec;
  it also enforces the call-depth limit, so a process calling itself ends in an incident instead of hanging.
All serialize under the library's typenames so saved state stays readable by plain SpiffWorkflow tooling.
"""
from __future__ import annotations

from copy import deepcopy
from typing import ClassVar

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import (
    CallActivityParser,
    ServiceTaskParser,
    SpiffTaskParser,
)
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import (
    ServiceTaskConverter,
    SpiffBpmnTaskConverter,
    SubWorkflowTaskConverter,
)
from SpiffWorkflow.spiff.specs.defaults import (
    BusinessRuleTask,
    CallActivity,
    ServiceTask,
)
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.util.deep_merge import DeepMerge

SERVICE_CALL_KEY = "ygt_service_call"
CALLEE_KEY = "ygt_callee"          # on a call activity's task: the spec key of the callee version it started


class EngineLimitExceeded(WorkflowTaskException):
    """A run went past a configured limit (steps, call depth): an incident, never a silent stop."""

    def __init__(self, code: str, message: str, task):
        super().__init__(message, task=task)
        self.code = code


class OutboxServiceTask(ServiceTask):
    """Evaluate parameters, record the call, and wait (STARTED) until the app completes the task."""

    def _execute(self, task):
        params = {name: task.workflow.script_engine.evaluate(task, p["value"])
                  for name, p in self.operation_params.items()}
        task.internal_data[SERVICE_CALL_KEY] = {"operator": self.operation_name, "params": params,
                                                "result_variable": self.result_variable}


class DecisionTask(SpiffBpmnTask, TaskSpec):
    """A business-rule task whose decision is evaluated by the environment's decision evaluator."""

    def __init__(self, wf_spec, name, decision_id, **kwargs):
        super().__init__(wf_spec, name, **kwargs)
        self.decision_id = decision_id

    def _run_hook(self, my_task):
        try:
            env = my_task.workflow.script_engine.environment
            outputs = env.evaluate_decision(self.decision_id, my_task.data, task_ref=(
                str(my_task.id), self.bpmn_id))
            my_task.data = DeepMerge.merge(my_task.data, deepcopy(outputs))
        except SpiffWorkflowException as exc:
            exc.add_note(f"Business Rule Task '{self.bpmn_name or self.bpmn_id}'.")
            raise
        except Exception as exc:
            error = WorkflowTaskException(f"{type(exc).__name__}: {exc}", task=my_task, exception=exc)
            error.add_note(f"Business Rule Task '{self.bpmn_name or self.bpmn_id}' ({self.decision_id}).")
            raise error from exc
        return True


def spec_key_of(workflow) -> str | None:
    """The callee spec key of the called process `workflow` belongs to (None: the instance's own version)."""
    while getattr(workflow, "parent_task_id", None) is not None:
        parent = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        key = parent.internal_data.get(CALLEE_KEY)
        if key:
            return key
        workflow = parent.workflow
    return None


class ResolvingCallActivity(CallActivity):
    """Start the callee version the environment's resolver chooses now; refuse to go deeper than the limit."""

    def start_workflow(self, my_task):
        top = my_task.workflow.top_workflow
        env = top.script_engine.environment
        depth = getattr(my_task.workflow, "depth", 0) + 1
        limit = getattr(env, "max_call_depth", None)
        if limit is not None and depth > limit:
            my_task.error()
            raise EngineLimitExceeded("call_depth_exceeded", f"调用层级超过上限 {limit} (call depth limit {limit} "
                                      f"exceeded calling '{self.spec}')", my_task)
        resolver = getattr(env, "callees", None)
        if self.spec in top.subprocess_specs or resolver is None:
            return super().start_workflow(my_task)  # versions deployed before callees were resolved at call time
        try:
            callee = resolver.resolve(self.spec, caller=spec_key_of(my_task.workflow), element_id=self.bpmn_id)
            top.subprocess_specs.update(resolver.specs(callee.key))
        except Exception as exc:
            my_task.error()
            raise WorkflowTaskException(f"{type(exc).__name__}: {exc}", task=my_task, exception=exc) from exc
        my_task.internal_data[CALLEE_KEY] = callee.key
        env.call_log.append({"task_guid": str(my_task.id), "element_id": self.bpmn_id, "process_id": self.spec,
                             "version": callee.version, "key": callee.key})
        subworkflow = top.create_subprocess(my_task, callee.key)
        subworkflow.completed_event.connect(self._on_subworkflow_completed, my_task)
        self.copy_data(my_task, subworkflow)
        subworkflow.get_next_task(spec_name="Start").run()


class DecisionTaskParser(SpiffTaskParser):
    @staticmethod
    def get_decision_ref(node):
        return SpiffTaskParser._parse_extensions(node).get("calledDecisionId")

    def create_task(self):
        extensions = self.parse_extensions()
        decision_id = extensions.get("calledDecisionId")
        if not decision_id:
            raise ValidationException("A business rule task must name its decision (calledDecisionId)",
                                      node=self.node, file_name=self.filename)
        return DecisionTask(self.spec, self.bpmn_id, decision_id=decision_id,
                            prescript=extensions.get("preScript"), postscript=extensions.get("postScript"),
                            **self.bpmn_attributes)


class EngineParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES: ClassVar[dict] = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, OutboxServiceTask),
        full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
        full_tag("callActivity"): (CallActivityParser, ResolvingCallActivity),
    }


class _OutboxServiceTaskConverter(ServiceTaskConverter):
    def __init__(self, target_class, registry):
        super().__init__(target_class, registry, typename="ServiceTask")


class _DecisionTaskConverter(SpiffBpmnTaskConverter):
    def __init__(self, target_class, registry):
        super().__init__(target_class, registry, typename="BusinessRuleTask")

    def to_dict(self, spec):
        dct = super().to_dict(spec)
        dct["decision_id"] = spec.decision_id
        return dct


class _CallActivityConverter(SubWorkflowTaskConverter):
    def __init__(self, target_class, registry):
        super().__init__(target_class, registry, typename="CallActivity")


ENGINE_CONFIG = dict(SPIFF_CONFIG)
del ENGINE_CONFIG[ServiceTask]
del ENGINE_CONFIG[BusinessRuleTask]
del ENGINE_CONFIG[CallActivity]
ENGINE_CONFIG[ResolvingCallActivity] = _CallActivityConverter
ENGINE_CONFIG[OutboxServiceTask] = _OutboxServiceTaskConverter
ENGINE_CONFIG[DecisionTask] = _DecisionTaskConverter
