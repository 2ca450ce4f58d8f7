"""The process engine: the only package that imports SpiffWorkflow.

Pure: definition files and saved state in, plain data out; it never opens a database session.

* `specs.parse_bundle` — validate BPMN/DMN/forms into drafts (content hashes, metadata, serialized specs)
* `runtime` — start / advance / complete_task / correlate / fire timers / service calls / retry / cancel,
  each returning a `Snapshot` for the persistence layer to project
* `dmn` — our DMN engine (real hit policies, chained decisions, traces, overlap/gap analysis)
* `sandbox` — the restricted evaluator for model scripts and expressions
"""
from . import patches  # noqa: F401  — library fixes, applied before anything runs a workflow
from .codec import ENGINE_FORMAT
from .environment import Isolation
from .errors import (
    DefinitionConflict,
    DefinitionError,
    EngineError,
    InvalidTaskData,
    MessageNotWaiting,
    TaskNotReady,
)
from .runtime import Callee, Context, Snapshot, StaticCallees, correlation_hash
from .specs import (
    Bundle,
    DecisionDraft,
    PriorProcess,
    ProcessDraft,
    decision_hash,
    modeler_default_ids,
    normalize_form,
    parse_bundle,
)

__all__ = [
    "ENGINE_FORMAT", "Bundle", "Callee", "Context", "DecisionDraft", "DefinitionConflict", "DefinitionError",
    "EngineError", "InvalidTaskData", "Isolation", "MessageNotWaiting", "PriorProcess", "ProcessDraft", "Snapshot",
    "StaticCallees", "TaskNotReady", "correlation_hash", "decision_hash", "modeler_default_ids", "normalize_form",
    "parse_bundle",
]
