"""Threshold alerts: when an indicator of an organisation crosses its warning or alarm threshold in a period, the
supervisors responsible for it get one notification and one handling task (process `quality_alert`: cause, actions,
deadline; due in 7 days) per breach, both pointing at the list behind the figure. A county alert goes to the county
supervisors, a township's to its township public-health staff.

Which organisations are checked (default: the county and its townships; a village's patients are in its township's
list) and the smallest denominator of a rate worth an alert (default 5) are set in `thresholds.json` (`alerts`).

The sweep reads the month's materialized figures (`app.quality.aggregates`) when it has them and counts live only
the organisations whose figure crosses a threshold there and that have no alert for it yet; without figures it
counts every organisation live.

Idempotent by construction: the alert row is unique per (indicator, organisation, period, level) and each
notification carries a dedupe key, so the scheduled sweep may run any number of times.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.auth.queries import candidate_users
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import NotFound
from app.notifications.services import notify
from app.org import queries as org_queries
from app.workflows import runner
from app.workflows.deploy import latest_process_versions

from . import aggregates, queries
from .library import Indicator, alert_settings, library
from .models import QualityAlert

log = logs.get("quality")
ALERT_LEVELS = ("warning", "alarm")
RESPONSIBLE_ROLES = ("supervisor", "township_public_health")     # 质控: county supervisors, township 公卫
MAX_SUBJECTS = 1000
LEVEL_LABELS = {"warning": "预警", "alarm": "报警"}
HANDLING_LABELS = {"open": "待处置", "handled": "已处置"}


def _list_part(ind: Indicator) -> str:
    """Which list explains a breach: the patients not counted (gap) of a rate where higher is better on one
    source; else those counted (e.g. the overdue patients of an overdue share)."""
    same_source = ind.denominator is not None and ind.denominator.source == ind.numerator.source
    return "gap" if ind.direction == "higher" and same_source else "numerator"


def _subjects(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": r["key"], "resident_id": r.get("resident_id"), "task_id": r.get("task_id")}
            for r in rows[:MAX_SUBJECTS]]


def _recipients(org_code: str) -> list[int]:
    ids: list[int] = []
    for role in RESPONSIBLE_ROLES:
        ids += [u.id for u in candidate_users(role, org_code) if u.id not in ids]
    return ids


def _record(ind: Indicator, org, period: str, fig: dict[str, Any], rows: list[dict]) -> QualityAlert | None:
    level = fig["status"]
    alert = QualityAlert(indicator_id=ind.id, org_code=org.code, org_path=org.path, period=period, level=level,
                         value=fig["value"], numerator=fig["numerator"], denominator=fig["denominator"],
                         threshold=fig["thresholds"][level], part=_list_part(ind), subjects=_subjects(rows),
                         recipients=_recipients(org.code), created_at=clock.now())
    try:
        with unit_of_work() as s:
            s.add(alert)
    except IntegrityError:
        session().rollback()
        return None                                    # raised before (another sweep won the race)
    return alert


def _notify(alert: QualityAlert, ind: Indicator, org_name: str) -> None:
    shown = _shown(alert.value, ind.unit)
    title = f"质控{LEVEL_LABELS[alert.level]}: {org_name} {ind.name} {shown}"
    body = (f"{alert.period} {org_name} 的「{ind.name}」为 {shown}, 越过{LEVEL_LABELS[alert.level]}线 "
            f"{alert.threshold:g}{ind.unit}; 涉及 {len(alert.subjects)} 条记录, 请查看名单并督导整改。")
    link = _list_link(alert)
    for user_id in alert.recipients:
        notify(user_id, kind="quality_alert", title=title, body=body, link=link,
               dedupe_key=f"quality:{ind.id}:{alert.org_code}:{alert.period}:{alert.level}:{user_id}")


def check_thresholds(*, period: str | None = None) -> int:
    """Raise the alerts of a period (default: this month) for every organisation; returns how many are new."""
    root = org_queries.root_org()
    if root is None:
        return 0
    period = period or queries.current_period()
    settings = alert_settings()
    orgs = [o for o in org_queries.subtree(root.code) if o.level in settings["org_levels"]]
    if aggregates.ready([period]) == {period}:
        raised = _check_stored(period, root.path, orgs, settings["min_denominator"])
    else:
        rows, raised = queries.Rows(root.path), 0
        for ind in library().values():
            w = queries.window(ind, period)
            num, den = queries.parts(ind, w, rows)
            for org in orgs:
                raised += _check_org(ind, w, org, num, den, min_denominator=settings["min_denominator"])
    log.info("quality thresholds checked", extra={"job": "quality.check_thresholds", "status": raised})
    return raised


def _check_stored(period: str, root_path: str, orgs: list, min_denominator: int) -> int:
    """The sweep over the month's materialized figures: only a figure that crosses a threshold there, and has no
    alert yet, is counted again live for its organisation — from the county's rows of that indicator, read once per
    sweep — so the alert records the live figure and the list behind it, and a figure up to one refresh old raises
    nothing the rows do not show."""
    stored = aggregates.Stored([period], [o.code for o in orgs])
    raised_before = {(a.indicator_id, a.org_code, a.level) for a in session().scalars(
        select(QualityAlert).where(QualityAlert.period == period))}
    rows, raised = queries.Rows(root_path), 0          # read only for an indicator that has a new breach
    for ind in library().values():
        w = queries.window(ind, period)
        for org in orgs:
            fig = stored.figure(ind, period, org.code)
            if fig["status"] not in ALERT_LEVELS or (ind.id, org.code, fig["status"]) in raised_before:
                continue
            num, den = queries.parts(ind, w, rows)
            raised += _check_org(ind, w, org, num, den, min_denominator=min_denominator)
    return raised


def _under(rows: list[dict], path: str) -> list[dict]:
    return [r for r in rows if (r.get("org_path") or "").startswith(path)]


def _check_org(ind: Indicator, w, org, num: list[dict], den: list[dict] | None, *, min_denominator: int) -> int:
    n, d = _under(num, org.path), None if den is None else _under(den, org.path)
    if d is not None and len({r["key"] for r in d}) < min_denominator:
        return 0                                       # too few patients for a rate to mean anything
    fig = queries.figure(ind, n, d, w.end.year)
    if fig["status"] not in ALERT_LEVELS:
        return 0
    part = _list_part(ind)
    if part == "gap" and d is not None:
        inside = {r["key"] for r in n}
        listed = [r for r in d if r["key"] not in inside]
    else:
        listed = n
    listed = sorted({r["key"]: r for r in listed}.values(), key=lambda r: r["key"])
    alert = _record(ind, org, w.period, fig, listed)
    if alert is None:
        return 0
    _notify(alert, ind, org.name)
    _start_handling(alert, ind, org)
    return 1


PROCESS = "quality_alert"


def _shown(value: float | None, unit: str) -> str:
    return f"{value:g}{unit}" if value is not None else "—"


def _start_handling(alert: QualityAlert, ind: Indicator, org) -> None:
    """The handling task of a new alert (once: the alert row is unique per breach)."""
    if PROCESS not in latest_process_versions(session()):
        log.error("quality alert raised but process quality_alert is not deployed: nobody gets a handling task",
                  extra={"job": "quality.check_thresholds", "status": alert.id})
        return
    role = "supervisor" if org.level == "county" else "township_public_health"
    data = {"alert_id": alert.id, "org_code": org.code, "org_name": org.name, "responsible_role": role,
            "indicator_id": ind.id, "indicator_name": ind.name, "period": alert.period, "level": alert.level,
            "level_label": LEVEL_LABELS[alert.level], "shown_value": _shown(alert.value, ind.unit),
            "shown_threshold": _shown(alert.threshold, ind.unit), "subject_count": len(alert.subjects),
            "task_links": [{"label": "越线名单", "href": _list_link(alert)},
                           {"label": "指标趋势", "href": f"/quality?indicator={ind.id}&org={org.code}"}]}
    inst = runner.start_instance(PROCESS, actor=runner.Actor("system"), data=data, org_code=org.code,
                                 business_key=f"quality:{alert.id}")
    with unit_of_work():
        session().execute(update(QualityAlert).where(QualityAlert.id == alert.id).values(instance_id=inst.id))


def _list_link(alert: QualityAlert) -> str:
    return f"/quality?indicator={alert.indicator_id}&org={alert.org_code}&period={alert.period}&part={alert.part}"


def record_handling(alert_id: int, *, by: str | None, cause: str, actions: str, rectify_by: str) -> dict[str, Any]:
    """The responsible person's answer to an alert (the `quality/record_handling` step; idempotent)."""
    with unit_of_work() as s:
        alert = s.get(QualityAlert, alert_id)
        if alert is None:
            raise NotFound("质控预警不存在 (alert not found)", code="alert_not_found")
        if alert.status != "handled":
            alert.status, alert.handled_by, alert.handled_at = "handled", by, clock.now()
            alert.response = {"cause": cause, "actions": actions, "rectify_by": rectify_by}
        return {"alert_id": alert.id, "status": alert.status, "handled_by": alert.handled_by}


def alerts(p, *, period: str | None = None, org_code: str | None = None) -> list[dict[str, Any]]:
    """The alerts of organisations in the caller's scope (newest first), without the personal list."""
    org = queries.resolve_org(p, org_code)
    stmt = select(QualityAlert).where(QualityAlert.org_path.startswith(org.path, autoescape=True))
    if period:
        stmt = stmt.where(QualityAlert.period == period)
    found = list(session().scalars(stmt.order_by(QualityAlert.id.desc()).limit(500)))
    names = {o.code: o.name for o in org_queries.subtree(org.code)}
    lib = library()
    return [{"id": a.id, "indicator_id": a.indicator_id,
             "indicator_name": lib[a.indicator_id].name if a.indicator_id in lib else a.indicator_id,
             "org_code": a.org_code, "org_name": names.get(a.org_code, a.org_code), "period": a.period,
             "level": a.level, "level_label": LEVEL_LABELS.get(a.level, a.level), "value": a.value,
             "numerator": a.numerator, "denominator": a.denominator, "threshold": a.threshold, "part": a.part,
             "count": len(a.subjects), "created_at": a.created_at, "status": a.status,
             "status_label": HANDLING_LABELS.get(a.status, a.status), "handled_at": a.handled_at,
             "handled_by": a.handled_by, "instance_id": a.instance_id} for a in found]

