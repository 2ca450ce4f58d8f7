"""`ygt check-assets`: the repository's models are complete and named by meaning."""
from __future__ import annotations

from pathlib import Path

from app import engine as eng

from . import bindings
from .deploy import collect_folder_files


def check(root: Path) -> list[dict]:
    """Return problems as `{file, element_id, reason}`; empty means the assets are consistent."""
    files = collect_folder_files(root)
    problems: list[dict] = []
    try:
        bundle = eng.parse_bundle(files, known_operators=bindings.operator_names())
    except eng.DefinitionError as exc:
        return [{"file": exc.file or "-", "element_id": exc.element_id, "reason": exc.reason}]
    for process in bundle.processes:
        for task in process.user_tasks:
            if not task.form_key:
                problems.append({"file": process.file, "element_id": task.element_id,
                                 "reason": f"user task has no form (expected forms/{task.process_id}/"
                                           f"{task.element_id}.json or formJsonSchemaFilename)"})
    for path in bundle.unused_forms:
        problems.append({"file": path, "element_id": None, "reason": "form is not used by any user task"})
    for path, data in files.items():
        if path.endswith((".bpmn", ".dmn")):
            for element_id in eng.modeler_default_ids(data):
                problems.append({"file": path, "element_id": element_id,
                                 "reason": "modeler default id; name it by meaning (snake_case)"})
    for decision in bundle.decisions:
        if decision.cases is None:
            problems.append({"file": decision.file, "element_id": decision.decision_id,
                             "reason": "decision has no conformance cases (<id>.cases.json)"})
    return problems
