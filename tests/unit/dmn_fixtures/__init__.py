"""Small DMN fixtures for the unit tests: files on disk, and a builder for one-off tables."""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from app.engine.dmn import Decision, parse_decision

HERE = Path(__file__).parent
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def load(name: str) -> Decision:
    """Parse the fixture file `name` (without `.dmn`)."""
    path = HERE / f"{name}.dmn"
    return parse_decision(path.read_bytes(), filename=path.name)


def table_xml(decision_id: str, *, inputs: list[tuple[str, str | None]] | list[tuple], outputs: list[tuple],
              rules: list[tuple], hit_policy: str = "UNIQUE", aggregation: str | None = None,
              required: tuple[str, ...] = ()) -> str:
    """Build one decision's XML.

    inputs:  (expression, typeRef[, inputValues[, default]])
    outputs: (name, typeRef[, outputValues[, defaultOutputEntry]])
    rules:   ([input entries], [output entries][, annotation])
    """
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    parts = [f'<definitions xmlns="{DMN13}" xmlns:ygt="https://yigongti.dev/dmn/1.0" id="defs" name="t">',
             f'<decision id="{decision_id}" name="{decision_id}">']
    parts += [f'<informationRequirement><requiredDecision href="#{r}"/></informationRequirement>' for r in required]
    parts.append(f'<decisionTable id="{decision_id}_table" hitPolicy="{hit_policy}"{agg}>')
    for n, spec in enumerate(inputs, start=1):
        expression, type_ref, allowed, default = (*spec, None, None)[:4]
        ext = f"<extensionElements><ygt:default>{escape(default)}</ygt:default></extensionElements>" \
            if default is not None else ""
        typ = f' typeRef="{type_ref}"' if type_ref else ""
        values = f"<inputValues><text>{escape(allowed)}</text></inputValues>" if allowed else ""
        parts.append(f'<input id="in{n}" label="{escape(expression)}">{ext}<inputExpression{typ}>'
                     f'<text>{escape(expression)}</text></inputExpression>{values}</input>')
    for n, spec in enumerate(outputs, start=1):
        name, type_ref, values, default = (*spec, None, None)[:4]
        typ = f' typeRef="{type_ref}"' if type_ref else ""
        vals = f"<outputValues><text>{escape(values)}</text></outputValues>" if values else ""
        if default is not None:
            vals += f"<defaultOutputEntry><text>{escape(default)}</text></defaultOutputEntry>"
        parts.append(f'<output id="out{n}" name="{name}"{typ}>{vals}</output>')
    for n, spec in enumerate(rules, start=1):
        ins, outs, note = (*spec, None)[:3]
        cells = "".join(f'<inputEntry id="r{n}_i{k}"><text>{escape(t)}</text></inputEntry>'
                        for k, t in enumerate(ins, start=1))
        cells += "".join(f'<outputEntry id="r{n}_o{k}"><text>{escape(t)}</text></outputEntry>'
                         for k, t in enumerate(outs, start=1))
        if note:
            cells += f"<annotationEntry><text>{escape(note)}</text></annotationEntry>"
        parts.append(f'<rule id="r{n}">{cells}</rule>')
    parts.append("</decisionTable></decision></definitions>")
    return "".join(parts)


def table(decision_id: str = "t", **kwargs) -> Decision:
    """Build and parse one decision (see `table_xml`)."""
    return parse_decision(table_xml(decision_id, **kwargs), filename=f"{decision_id}.dmn")


def literal(decision_id: str, expression: str, *, variable: str | None = None,
            required: tuple[str, ...] = ()) -> Decision:
    reqs = "".join(f'<informationRequirement><requiredDecision href="#{r}"/></informationRequirement>'
                   for r in required)
    var = f'<variable name="{variable}"/>' if variable else ""
    xml = (f'<definitions xmlns="{DMN13}" id="defs" name="t"><decision id="{decision_id}" name="{decision_id}">'
           f"{var}{reqs}<literalExpression><text>{escape(expression)}</text></literalExpression>"
           "</decision></definitions>")
    return parse_decision(xml, filename=f"{decision_id}.dmn")
