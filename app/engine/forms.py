"""Task forms in a deployment: our `forms/<process>/<task>.json` ({schema, uiSchema}) and SpiffArena's
`formJsonSchemaFilename` / `formUiSchemaFilename` (a bare JSON Schema and a separate uiSchema file)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import jsonschema

from .errors import DefinitionError


def normalize_form(path: str, doc: Any, ui_doc: Any = None) -> dict[str, Any]:
    """Accept our `{schema, uiSchema}` files and SpiffArena's bare schema + separate uiSchema file."""
    if not isinstance(doc, dict):
        raise DefinitionError("a form must be a JSON object", file=path)
    schema = doc.get("schema", doc) if "schema" in doc else doc
    ui_schema = doc.get("uiSchema") or doc.get("ui_schema") or ui_doc or {}
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise DefinitionError(f"invalid JSON Schema at {'/'.join(map(str, exc.path)) or '/'}: {exc.message}",
                              file=path) from exc
    if schema.get("type", "object") != "object":
        raise DefinitionError("a task form's schema must be of type object", file=path)
    return {"schema": schema, "ui_schema": ui_schema}


def find_form(forms: Mapping[str, Any], process_ids: tuple[str, ...], name: str) -> str | None:
    for process_id in process_ids:
        for candidate in (f"forms/{process_id}/{name}", f"{process_id}/{name}"):
            if candidate in forms:
                return candidate
    if name in forms:
        return name
    matches = [p for p in forms if PurePosixPath(p).name == name]
    return matches[0] if len(matches) == 1 else None


def task_form(path: str, process_id: str, spec_name: str, element_id: str, properties: Mapping[str, str],
              forms: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]] | None:
    """The uploaded form of a user task and the files it used, or None when the upload holds none."""
    owners = (process_id, spec_name) if spec_name != process_id else (process_id,)
    schema_name, ui_name = properties.get("formJsonSchemaFilename"), properties.get("formUiSchemaFilename")
    found = find_form(forms, owners, schema_name or f"{element_id}.json")
    if found is None:
        return None
    ui_found = None
    if schema_name and ui_name:
        ui_found = find_form(forms, owners, ui_name)
        if ui_found is None:
            raise DefinitionError(f"ui schema file '{ui_name}' not provided", file=path, element_id=element_id,
                                  problem="form_missing", form=ui_name)
    form = normalize_form(found, forms[found], forms[ui_found] if ui_found else None)
    return form, {found, *([ui_found] if ui_found else [])}
