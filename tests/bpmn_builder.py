"""Write small BPMN documents for tests: `process("p", chain(user("a"), script("s", "x = 1")))`.

Each helper returns XML text; `chain()` wires elements in a line from a start event to an end event, which is
all most tests need. Elements whose flows a test wires by hand take explicit `flows` instead.
"""
from __future__ import annotations

from html import escape
from itertools import count, pairwise

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
      'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"')
_ids = count(1)


def definitions(*parts: str, id: str = "defs") -> bytes:
    body = "\n".join(parts)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="{id}" '
            f'targetNamespace="https://yigongti.dev/test">\n{body}\n</bpmn:definitions>\n').encode()


def process(process_id: str, body: str, *, name: str | None = None, executable: bool | None = True) -> str:
    flag = "" if executable is None else f' isExecutable="{str(executable).lower()}"'
    return f'<bpmn:process id="{process_id}" name="{escape(name or process_id)}"{flag}>\n{body}\n</bpmn:process>'


def props(**values: str) -> str:
    items = "".join(f'<spiffworkflow:property name="{k}" value="{escape(v)}"/>' for k, v in values.items())
    return f"<spiffworkflow:properties>{items}</spiffworkflow:properties>"


def ext(*inner: str) -> str:
    return f"<bpmn:extensionElements>{''.join(inner)}</bpmn:extensionElements>" if inner else ""


def user(task_id: str, name: str | None = None, *, form: str | None = None, extra: str = "",
         lane: str | None = None) -> tuple[str, str, str, str]:
    inner = props(formJsonSchemaFilename=form) if form else ""
    return ("userTask", f'id="{task_id}" name="{escape(name or task_id)}"', ext(inner, extra) if (inner or extra)
            else "", "")


def script(task_id: str, code: str) -> tuple[str, str, str, str]:
    return ("scriptTask", f'id="{task_id}"', "", f"<bpmn:script>{escape(code)}</bpmn:script>")


def call(task_id: str, called: str, *, binding: str | None = None, version: int | None = None) -> tuple:
    attrs = f'id="{task_id}" calledElement="{called}"'
    if binding:
        attrs += f' camunda:calledElementBinding="{binding}"'
    if version is not None:
        attrs += f' camunda:calledElementVersion="{version}"'
    return ("callActivity", attrs, "", "")


def subprocess(task_id: str, *inner: tuple) -> tuple[str, str, str, str]:
    return ("subProcess", f'id="{task_id}"', "", chain(*inner, prefix=f"{task_id}_"))


def element(tag: str, element_id: str, *, attrs: str = "", extension: str = "", body: str = "") -> tuple:
    """Any flow node: `element("manualTask", "check")`, `element("intermediateCatchEvent", "wait", body=...)`."""
    return (tag, f'id="{element_id}" {attrs}'.strip(), extension, body)


def chain(*elements: tuple, prefix: str = "") -> str:
    """start → elements… → end, with sequence flows between them."""
    nodes = [("startEvent", f'id="{prefix}start"', "", "")] + list(elements) + \
        [("endEvent", f'id="{prefix}end"', "", "")]
    ids = [n[1].split('"')[1] for n in nodes]
    out = []
    flows = [(f"{prefix}f{n}", a, b) for n, (a, b) in enumerate(pairwise(ids), start=1)]
    for i, (tag, attrs, extension, body) in enumerate(nodes):
        incoming = f"<bpmn:incoming>{flows[i - 1][0]}</bpmn:incoming>" if i > 0 else ""
        outgoing = f"<bpmn:outgoing>{flows[i][0]}</bpmn:outgoing>" if i < len(flows) else ""
        out.append(f"<bpmn:{tag} {attrs}>{extension}{incoming}{outgoing}{body}</bpmn:{tag}>")
    out += [f'<bpmn:sequenceFlow id="{fid}" sourceRef="{a}" targetRef="{b}"/>' for fid, a, b in flows]
    return "\n".join(out)


def form(*fields: str, **typed: str) -> bytes:
    """A JSON Schema form with string fields (or `name="integer"` for other types)."""
    import json
    properties = {f: {"type": "string", "title": f} for f in fields}
    properties.update({k: {"type": v, "title": k} for k, v in typed.items()})
    return json.dumps({"type": "object", "properties": properties}).encode()


def loop(process_id: str, *, until: str, step: str = "n = n + 1") -> bytes:
    """A script task in a loop: `step` runs again while `until` is false."""
    body = f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="step"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>again</bpmn:incoming>
<bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>{escape(step)}</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="more" default="done"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>again</bpmn:outgoing>
<bpmn:outgoing>done</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:endEvent id="end"><bpmn:incoming>done</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step"/>
<bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="more"/>
<bpmn:sequenceFlow id="again" sourceRef="more" targetRef="step">
<bpmn:conditionExpression>not ({escape(until)})</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="done" sourceRef="more" targetRef="end"/>"""
    return definitions(process(process_id, body))


def two_way(process_id: str, *, a: str, b: str, default: str | None = None) -> bytes:
    """start → exclusive gateway `route` → script `path = 'a'` (condition `a`) | `path = 'b'` (condition `b`)."""
    default_attr = f' default="{default}"' if default else ""
    cond = {"a": a, "b": b}
    flows = "".join(
        f'<bpmn:sequenceFlow id="{k}" sourceRef="route" targetRef="s{k}">'
        + (f"<bpmn:conditionExpression>{escape(cond[k])}</bpmn:conditionExpression>" if k != default else "")
        + "</bpmn:sequenceFlow>" for k in ("a", "b"))
    body = f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:exclusiveGateway id="route"{default_attr}><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>a</bpmn:outgoing>
<bpmn:outgoing>b</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:scriptTask id="sa"><bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>fa</bpmn:outgoing>
<bpmn:script>path = 'a'</bpmn:script></bpmn:scriptTask>
<bpmn:scriptTask id="sb"><bpmn:incoming>b</bpmn:incoming><bpmn:outgoing>fb</bpmn:outgoing>
<bpmn:script>path = 'b'</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="end"><bpmn:incoming>fa</bpmn:incoming><bpmn:incoming>fb</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="route"/>{flows}
<bpmn:sequenceFlow id="fa" sourceRef="sa" targetRef="end"/>
<bpmn:sequenceFlow id="fb" sourceRef="sb" targetRef="end"/>"""
    return definitions(process(process_id, body))
