"""Use cases of research extraction (`research_extract`, issue 20.7):

    create(p, title=…, purpose=…, criteria={…}, variables=[…], date_mode="shift", k=5)   # a draft
    preview(p, criteria)          # the cohort size only (no rows); under the minimum k it says "fewer than k"
    submit(p, project_id)         # starts the committee's review
    build_extract(project_id)     # the service task after approval (runs as a job): de-identify, suppress, measure k
    download(p, project_id, "csv")  # the requester, within the limit and the expiry; every download audited

Who may: `researcher` (and `county_specialist`) draft and submit their own projects and download their released
extract; the data/ethics committee (`YGT_RESEARCH_REVIEW_ROLES`, default supervisor + county administrator) reads
every project of its subtree and reviews in the inbox. The cohort is drawn from the requester's whole county.
"""
from __future__ import annotations

import csv
import io
import secrets
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select

from app.audit.services import record as audit
from app.auth import queries as users
from app.auth.principal import Principal
from app.core import clock
from app.core.crypto import decrypt_field, encrypt_field
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from app.notifications.services import notify
from app.reports.xlsx import MIME as XLSX_MIME
from app.reports.xlsx import sheet, to_bytes
from app.vocabulary import Disease, Sex
from app.vocabulary import RiskLevel as RiskGrade
from app.workflows import runner
from app.workflows.deploy import latest_process_versions

from . import criteria as crit
from . import deidentify, extract
from .models import ResearchCommitteeMember, ResearchDownload, ResearchExtract, ResearchProject, ResearchVote
from .settings import settings

PROCESS = "research_extract"
RESEARCHER_ROLES = ("researcher", "county_specialist")
EDITABLE = ("draft", "changes_requested")
STATUS_LABELS = {"draft": "草稿", "submitted": "委员会审查中", "changes_requested": "退回修改", "building": "生成数据集中",
                 "pending_release": "待发布核查", "released": "已发布", "rejected": "未通过", "withdrawn": "已撤回"}
MAX_BELOW_L = 100      # classes under l kept for the report (largest first)
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_MIME}


class Gone(DomainError):
    status, code = 410, "gone"


class ProcessNotDeployed(Conflict):
    code = "process_not_deployed"


def reviewer_roles() -> tuple[str, ...]:
    return settings().review_roles


def is_reviewer(p: Principal) -> bool:
    return p.has_role(*reviewer_roles())


def _county_path(p: Principal) -> str:
    parts = [x for x in (p.org_path or "").split("/") if x]
    return f"/{parts[0]}/" if parts else "/"


def _readable(p: Principal, row: ResearchProject | None) -> ResearchProject:
    if row is None or not (row.requester_user_id == p.user_id or (
            is_reviewer(p) and row.status != "draft" and p.org_path and row.org_path.startswith(p.org_path))):
        raise NotFound("科研项目不存在 (research project not found)", code="research_project_not_found")
    return row


def get_project(p: Principal, project_id: int) -> ResearchProject:
    return _readable(p, session().get(ResearchProject, project_id))


def list_projects(p: Principal) -> list[ResearchProject]:
    stmt = select(ResearchProject)
    mine = ResearchProject.requester_user_id == p.user_id
    if is_reviewer(p) and p.org_path:
        stmt = stmt.where(mine | (ResearchProject.org_path.startswith(p.org_path, autoescape=True)
                                  & (ResearchProject.status != "draft")))
    else:
        stmt = stmt.where(mine)
    return list(session().scalars(stmt.order_by(ResearchProject.id.desc()).limit(200)))


def _k(value: Any) -> int:
    cfg = settings()
    k = cfg.default_k if value is None else value
    if isinstance(k, bool) or not isinstance(k, int) or not cfg.min_k <= k <= cfg.max_k:
        raise Invalid(f"k 应在 {cfg.min_k}–{cfg.max_k} 之间", code="invalid_k", field="k",
                           min=cfg.min_k, max=cfg.max_k)
    return k


def _l(value: Any) -> int:
    cfg = settings()
    lv = cfg.default_l if value is None else value
    if isinstance(lv, bool) or not isinstance(lv, int) or not 1 <= lv <= cfg.max_l:
        raise Invalid(f"l 应在 1–{cfg.max_l} 之间", code="invalid_l", field="l", min=1, max=cfg.max_l)
    return lv


def _date_mode(value: Any) -> str:
    mode = value or "shift"
    if mode not in crit.DATE_MODES:
        raise Invalid("日期处理方式应为 shift 或 month", code="invalid_date_mode", field="date_mode")
    return mode


def _apply(row: ResearchProject, body: dict[str, Any]) -> None:
    """Validate everything first, then change the row (never half-applied)."""
    criteria = crit.validate_criteria(body.get("criteria"))
    variables = crit.validate_variables(body.get("variables"))
    date_mode, k, lv = _date_mode(body.get("date_mode")), _k(body.get("k")), _l(body.get("l"))
    row.title, row.purpose = body["title"].strip(), (body.get("purpose") or "").strip()
    row.criteria, row.variables, row.date_mode, row.k, row.l = criteria, variables, date_mode, k, lv
    row.updated_at = clock.now()


def create(p: Principal, body: dict[str, Any]) -> ResearchProject:
    with unit_of_work() as s:
        now = clock.now()
        row = ResearchProject(requester=p.username, requester_user_id=p.user_id,
                              requester_name=p.display_name or p.username, org_code=p.org_code,
                              org_path=_county_path(p), status="draft", download_limit=settings().downloads,
                              secret_encrypted=encrypt_field(secrets.token_hex(32)), created_at=now, updated_at=now)
        _apply(row, body)
        s.add(row)
        s.flush()
        return row


def _own(p: Principal, project_id: int, *, lock: bool = False) -> ResearchProject:
    stmt = select(ResearchProject).where(ResearchProject.id == project_id)
    row = session().scalars(stmt.with_for_update() if lock else stmt).first()
    row = _readable(p, row)
    if row.requester_user_id != p.user_id:
        raise Forbidden("只有申请人可以操作 (only the requester may do this)", code="not_requester")
    return row


def update(p: Principal, project_id: int, body: dict[str, Any]) -> ResearchProject:
    with unit_of_work():
        row = _own(p, project_id, lock=True)
        if row.status not in EDITABLE:
            raise Conflict("申请已提交审查，不能修改 (project is locked while under review)", code="project_locked",
                           status_label=STATUS_LABELS[row.status])
        _apply(row, body)
        return row


def cohort_size(criteria: dict[str, Any], org_path: str) -> int:
    query = crit.cohort_query(criteria, org_path)
    return int(session().execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one())


def preview(p: Principal, raw_criteria: Any) -> dict[str, Any]:
    """The cohort size only. Below the platform's minimum k the exact number is not shown (differencing)."""
    criteria = crit.validate_criteria(raw_criteria)
    n = cohort_size(criteria, _county_path(p))
    floor = settings().min_k
    return {"cohort_size": n if n >= floor else None, "below_minimum": n < floor, "minimum": floor}


def _criteria_label(c: dict[str, Any]) -> str:
    parts = []
    if c.get("diseases"):
        parts.append("病种 " + "、".join(Disease.label_of(d) for d in c["diseases"]))
    if c.get("diagnoses"):
        parts.append("诊断 " + "、".join(c["diagnoses"]))
    if c.get("risk_levels"):
        parts.append("风险 " + "、".join(RiskGrade.label_of(r) for r in c["risk_levels"]))
    if c.get("enrolled_from") or c.get("enrolled_to"):
        parts.append(f"建档 {c.get('enrolled_from') or '…'}~{c.get('enrolled_to') or '…'}")
    if c.get("age_min") is not None or c.get("age_max") is not None:
        parts.append(f"年龄 {c.get('age_min') if c.get('age_min') is not None else '…'}–"
                     f"{c.get('age_max') if c.get('age_max') is not None else '…'} 岁")
    if c.get("sex"):
        parts.append("性别 " + "、".join(Sex.label_of(x) for x in c["sex"]))
    for o in c.get("observations") or []:
        bounds = f"{o['min'] if o['min'] is not None else '…'}~{o['max'] if o['max'] is not None else '…'}"
        window = f"（{o['from'] or '…'}~{o['to'] or '…'}）" if o.get("from") or o.get("to") else ""
        parts.append(f"{crit.variable_label('obs_last:' + o['code']).split(' ')[0]} {bounds}{window}")
    return "；".join(parts) or "全部居民"


def criteria_label(row: ResearchProject) -> str:
    return _criteria_label(row.criteria)


def request_data(row: ResearchProject) -> dict[str, Any]:
    """What the committee's tasks show (reloaded after a resubmission: criteria and variables may have changed)."""
    return {"title": row.title, "purpose": row.purpose or "—", "requester_name": row.requester_name,
            "cohort_size": row.cohort_size, "k": row.k, "l": row.l, "criteria_label": criteria_label(row),
            "variables_label": "、".join(crit.variable_label(v) for v in row.variables),
            "date_mode_label": crit.DATE_MODES[row.date_mode],
            "free_text_requested": crit.wants_free_text(row.variables)}


def _start_data(row: ResearchProject) -> dict[str, Any]:
    return {"project_id": row.id, "requester": row.requester, "review_org": row.org_path.strip("/").split("/")[0],
            "review_role": reviewer_roles()[0], "request": request_data(row), "comment": None,
            "allow_free_text": False}


# -- the committee ---------------------------------------------------------------------------------------------

ROLE_LABELS = {"supervisor": "质控督导", "county_admin": "县级管理员", "county_specialist": "县级专科医生",
               "process_owner": "流程管理员"}
VOTES = {"approve": "同意", "reject": "不同意", "changes": "需修改"}
DECISIONS = {"approve": "通过", "changes": "退回修改", "reject": "不予批准", "no_quorum": "未达法定人数（主任委员决定）"}


class CommitteeEmpty(Conflict):
    code = "committee_empty"


def _county_code(org_path: str) -> str:
    return org_path.strip("/").split("/")[0]


def county_code_of(p: Principal) -> str:
    return _county_code(p.org_path or "")


def _person(user) -> dict[str, Any]:
    return {"user_id": user.id, "username": user.username, "name": user.display_name or user.username}


def committee_of(county_code: str) -> dict[str, Any]:
    """The county's committee: its named members (`research_committee_members`), else everyone holding the first
    review role in the county (`source`: named | role), and its chair (the named chair, else the county's first
    user holding `YGT_RESEARCH_CHAIR_ROLE`, else the first member)."""
    named = list(session().scalars(select(ResearchCommitteeMember).where(
        ResearchCommitteeMember.county_code == county_code).order_by(ResearchCommitteeMember.id)))
    if named:
        found = users.users_by_id(m.user_id for m in named)
        members = [_person(found[m.user_id]) for m in named if m.user_id in found and found[m.user_id].active]
        chair = next((_person(found[m.user_id]) for m in named if m.is_chair and m.user_id in found), None)
        source = "named"
    else:
        members = [_person(u) for u, _, _ in users.staff_in([reviewer_roles()[0]], [f"/{county_code}/"])]
        chair = None
        source = "role"
    if chair is None:
        admins = users.staff_in([settings().chair_role], [f"/{county_code}/"])
        chair = _person(admins[0][0]) if admins else (members[0] if members else None)
    return {"county_code": county_code, "source": source, "members": members, "chair": chair,
            "role": reviewer_roles()[0], "role_label": ROLE_LABELS.get(reviewer_roles()[0], "委员会角色"),
            "vote_days": settings().vote_days,
            "reminder_days": settings().vote_reminder_days}


def set_committee(p: Principal, usernames: list[str], chair: str | None) -> dict[str, Any]:
    """Name the county's committee (county administrator); an empty list falls back to the committee role."""
    county = _county_code(p.org_path or "")
    with unit_of_work() as s:
        found = users.users_by_username(usernames + ([chair] if chair else []))
        for i, name in enumerate(usernames + ([chair] if chair else [])):
            if name not in found or not found[name].active:
                raise Invalid(f"用户 {name} 不存在", code="unknown_user", field=f"members[{i}]")
        if chair and chair not in usernames:
            usernames = [*usernames, chair]
        for m in s.scalars(select(ResearchCommitteeMember).where(ResearchCommitteeMember.county_code == county)):
            s.delete(m)
        s.flush()
        for name in dict.fromkeys(usernames):
            s.add(ResearchCommitteeMember(county_code=county, user_id=found[name].id, is_chair=name == chair,
                                          added_by=p.username, added_at=clock.now()))
        audit("research.committee", object_type="research_committee", object_id=county, principal=p,
              details={"members": usernames, "chair": chair})
    return committee_of(county)


def open_round(project_id: int, requester: str) -> dict[str, Any]:
    """The service task before every vote: the round's members (the committee without the requester: nobody
    votes on their own request), its chair and its reminder and due times. 409 `committee_empty`."""
    with unit_of_work() as s:
        row = s.scalars(select(ResearchProject).where(ResearchProject.id == project_id).with_for_update()).first()
        if row is None:
            raise NotFound("科研项目不存在", code="research_project_not_found")
        c = committee_of(_county_code(row.org_path))
        members = [m for m in c["members"] if m["username"] != requester]
        chair = c["chair"] if c["chair"] and c["chair"]["username"] != requester else (
            members[0] if members else None)
        if not members or chair is None:
            raise CommitteeEmpty("数据/伦理委员会没有可投票的成员 (the committee has no member who may vote)")
        now, cfg = clock.now(), settings()
        due = now + timedelta(days=cfg.vote_days)
        row.review_round = (row.review_round or 0) + 1
        row.committee, row.chair_user_id, row.committee_result = members, chair["user_id"], None
        row.status, row.updated_at = "submitted", now
        return {"round": row.review_round, "member_ids": [m["user_id"] for m in members],
                "chair_id": chair["user_id"], "due_at": due.isoformat(),
                "remind_at": (due - timedelta(days=min(cfg.vote_reminder_days, cfg.vote_days))).isoformat(),
                "due_label": clock.date_of(due).isoformat()}


def votes_of(project_id: int, review_round: int | None = None) -> list[ResearchVote]:
    stmt = select(ResearchVote).where(ResearchVote.project_id == project_id)
    if review_round is not None:
        stmt = stmt.where(ResearchVote.review_round == review_round)
    return list(session().scalars(stmt.order_by(ResearchVote.review_round, ResearchVote.id)))


def on_voted(task, data: dict[str, Any], actor_name: str) -> None:
    """A member's vote, recorded and audited in the transaction that completes their vote task."""
    row = _of_task(task)
    if row is None or task.assignee_id is None:
        return
    user = users.users_by_id([task.assignee_id]).get(task.assignee_id)
    vote = str(data.get("vote") or "")
    s = session()
    s.add(ResearchVote(project_id=row.id, review_round=row.review_round, user_id=task.assignee_id,
                       username=user.username if user else actor_name,
                       voter_name=(user.display_name or user.username) if user else actor_name, vote=vote,
                       opinion=(data.get("opinion") or "").strip() or None,
                       allow_free_text=bool(data.get("allow_free_text")), at=clock.now()))
    audit("research.vote", object_type="research_project", object_id=row.id,
          details={"round": row.review_round, "vote": vote, "voter": actor_name,
                   "opinion": (data.get("opinion") or "").strip() or None})


def tally(project_id: int) -> dict[str, Any]:
    """The votes of the current round, as the decision table reads them."""
    row = session().get(ResearchProject, project_id)
    if row is None:
        raise NotFound("科研项目不存在", code="research_project_not_found")
    votes = votes_of(row.id, row.review_round)
    members = len(row.committee or [])
    counts = {v: sum(1 for x in votes if x.vote == v) for v in VOTES}
    cast = sum(counts.values())
    return {"round": row.review_round, "members": members, "cast": cast, **counts,
            "participation": round(cast / members, 4) if members else 0.0,
            "approve_share": round(counts["approve"] / cast, 4) if cast else 0.0,
            "reject_share": round(counts["reject"] / cast, 4) if cast else 0.0,
            "changes_share": round(counts["changes"] / cast, 4) if cast else 0.0,
            "free_text_share": round(sum(1 for x in votes if x.vote == "approve" and x.allow_free_text) / cast, 4)
            if cast else 0.0}


def _opinions(votes: list[ResearchVote]) -> str | None:
    return "；".join(f"{v.voter_name}（{VOTES.get(v.vote, v.vote)}）：{v.opinion}" for v in votes if v.opinion) or None


def record_decision(project_id: int, decision: str, rule: str, counts: dict[str, Any]) -> dict[str, Any]:
    """The service task after the decision table: the committee's result on the project and in its audit. An
    inquorate vote leaves the project under review for the chair."""
    with unit_of_work() as s:
        row = s.scalars(select(ResearchProject).where(ResearchProject.id == project_id).with_for_update()).first()
        if row is None:
            raise NotFound("科研项目不存在", code="research_project_not_found")
        votes = votes_of(row.id, row.review_round)
        now = clock.now()
        row.committee_result = {"decision": decision, "rule": rule, "by": "committee", "tally": counts,
                                "round": row.review_round}
        comment = _opinions(votes)
        if decision != "no_quorum":
            row.reviewed_by, row.reviewed_at, row.review_comment = "数据/伦理委员会", now, comment
            row.free_text_approved = (decision == "approve" and crit.wants_free_text(row.variables)
                                      and float(counts.get("free_text_share") or 0) > 0.5)
            row.status = {"approve": "building", "changes": "changes_requested"}.get(decision, "rejected")
        row.updated_at = now
        audit("research.committee_decision", object_type="research_project", object_id=row.id,
              details={"round": row.review_round, "decision": decision, "rule": rule, "tally": counts})
        if decision == "no_quorum" and row.chair_user_id is not None:
            notify(row.chair_user_id, kind="research.escalated", title=f"科研数据申请「{row.title}」投票未达法定人数，请主任委员决定",
                   dedupe_key=f"research.escalated:{row.id}:{row.review_round}", link=f"/research/{row.id}")
        return {"decision": decision, "decision_label": DECISIONS.get(decision, decision), "comment": comment,
                "allow_free_text": row.free_text_approved}


def escalate(project_id: int, instance_id: int) -> dict[str, Any]:
    """The vote deadline passed: the open vote tasks are withdrawn (the timer interrupts them) and the votes cast
    so far are counted (the decision table decides if they reach the quorum, else the chair)."""
    counts = tally(project_id)
    row = session().get(ResearchProject, project_id)
    if row is not None:
        with unit_of_work():
            audit("research.escalated", object_type="research_project", object_id=row.id,
                  details={"round": row.review_round, "tally": counts})
    return counts


def remind_voters(project_id: int) -> dict[str, Any]:
    """Before the vote deadline: every member of the round who has not voted yet is reminded (once per round)."""
    row = session().get(ResearchProject, project_id)
    if row is None:
        return {"reminded": 0}
    voted = {v.user_id for v in votes_of(row.id, row.review_round)}
    n = 0
    for m in row.committee or []:
        if m["user_id"] not in voted:
            n += notify(m["user_id"], kind="research.vote_reminder",
                        title=f"请对科研数据申请「{row.title}」投票", body="投票即将截止，逾期将提交主任委员决定。",
                        dedupe_key=f"research.vote_reminder:{row.id}:{row.review_round}:{m['user_id']}",
                        link=f"/research/{row.id}")
    return {"reminded": n}


def on_chair_decided(task, data: dict[str, Any], actor_name: str) -> None:
    """The chair's decision (after an escalation or an inquorate vote), in the completing transaction."""
    row = _of_task(task)
    if row is None:
        return
    decision, now = str(data.get("decision") or ""), clock.now()
    row.reviewed_by, row.reviewed_at = actor_name, now
    row.review_comment = data.get("comment") or _opinions(votes_of(row.id, row.review_round))
    row.free_text_approved = bool(data.get("allow_free_text")) and crit.wants_free_text(row.variables)
    row.status = {"approve": "building", "changes": "changes_requested"}.get(decision, "rejected")
    prior = dict(row.committee_result or {})
    row.committee_result = {**prior, "decision": decision, "by": "chair", "chair": actor_name,
                            "committee_decision": prior.get("decision"), "round": row.review_round,
                            "tally": prior.get("tally") or tally(row.id)}
    row.updated_at = now
    audit("research.chair_decision", object_type="research_project", object_id=row.id,
          details={"round": row.review_round, "decision": decision, "chair": actor_name})


def submit(p: Principal, project_id: int) -> ResearchProject:
    """Start the committee's review of a draft (a returned project is resubmitted through its inbox task)."""
    with unit_of_work() as s:
        row = _own(p, project_id, lock=True)
        if row.status != "draft":
            raise Conflict("申请已提交 (already submitted)", code="already_submitted",
                           status_label=STATUS_LABELS[row.status])
        if PROCESS not in latest_process_versions(s):
            raise ProcessNotDeployed("科研数据流程未部署 (research_extract is not deployed)", process_id=PROCESS)
        c = committee_of(_county_code(row.org_path))
        if not [m for m in c["members"] if m["username"] != row.requester]:
            raise CommitteeEmpty("数据/伦理委员会没有可投票的成员 (the committee has no member who may vote)")
        row.cohort_size = cohort_size(row.criteria, row.org_path)
        row.status, row.updated_at = "submitted", clock.now()
        audit("research.submit", object_type="research_project", object_id=row.id, principal=p,
              details={"cohort_size": row.cohort_size, "variables": row.variables})
        inst = runner.start_instance(PROCESS, actor=runner.Actor.of(p), data=_start_data(row),
                                     org_code=row.org_path.strip("/").split("/")[0], business_key=f"KY-{row.id:04d}")
        row.instance_id = inst.id
        return row


# -- inbox answers (in the completing transaction; wired in app/wiring.py) ---------------------------------------

def _of_task(task) -> ResearchProject | None:
    project_id = (task.data or {}).get("project_id")
    return session().get(ResearchProject, int(project_id)) if project_id is not None else None


def on_reviewed(task, data: dict[str, Any], actor_name: str) -> None:
    row = _of_task(task)
    if row is None:
        return
    decision, now = str(data.get("decision") or ""), clock.now()
    row.reviewed_by, row.reviewed_at, row.review_comment = actor_name, now, data.get("comment") or None
    row.free_text_approved = bool(data.get("allow_free_text")) and crit.wants_free_text(row.variables)
    row.status = {"approve": "building", "changes": "changes_requested"}.get(decision, "rejected")
    row.updated_at = now


def on_revised(task, data: dict[str, Any], actor_name: str) -> None:
    row = _of_task(task)
    if row is None:
        return
    if data.get("action") == "resubmit":
        row.cohort_size = cohort_size(row.criteria, row.org_path)
        row.status = "submitted"
    else:
        row.status = "withdrawn"
    row.updated_at = clock.now()


def on_release_reviewed(task, data: dict[str, Any], actor_name: str) -> None:
    row = _of_task(task)
    if row is None:
        return
    now = clock.now()
    row.released_by, row.released_at = actor_name, now
    if data.get("release"):
        row.status, row.expires_at = "released", now + timedelta(days=settings().expiry_days)
    else:
        row.status, row.review_comment = "rejected", data.get("release_comment") or row.review_comment
    row.updated_at = now


def reload_request(project_id: int) -> dict[str, Any]:
    """The service task after a resubmission: the request as it now stands."""
    row = session().get(ResearchProject, project_id)
    if row is None:
        raise NotFound("科研项目不存在", code="research_project_not_found")
    return request_data(row)


# -- the extract ---------------------------------------------------------------------------------------------

def _secret(row: ResearchProject) -> str:
    return decrypt_field(row.secret_encrypted)


def build_extract(project_id: int) -> dict[str, Any]:
    """De-identify the approved cohort into the project's extract (idempotent: a rebuild replaces it)."""
    with unit_of_work() as s:
        row = s.scalars(select(ResearchProject).where(ResearchProject.id == project_id).with_for_update()).first()
        if row is None:
            raise NotFound("科研项目不存在", code="research_project_not_found")
        out = _build(row, until=None)
        row.status, row.updated_at = "pending_release", clock.now()
        return extract_summary(out, row.k, row.l)


def _build(row: ResearchProject, *, until: date | None) -> ResearchExtract:
    """Build (or rebuild) the project's extract under its own secret: the same resident keeps the same research id
    and date shift in every build of the project."""
    s = session()
    ids = list(s.scalars(crit.cohort_query(row.criteria, row.org_path)))
    raw = extract.build_rows(ids, row.variables, secret=_secret(row), date_mode=row.date_mode,
                             shift_days=settings().shift_days, free_text=row.free_text_approved, until=until)
    qis = extract.quasi_identifiers(row.variables)
    sensitive = sensitive_attributes(row.variables)
    kept, report = deidentify.suppress(raw, qis, row.k, l=row.l, sensitive=sensitive)
    cols = extract.columns(row.variables, row.free_text_approved)
    out = s.scalars(select(ResearchExtract).where(ResearchExtract.project_id == row.id)).first()
    if out is None:
        out = ResearchExtract(project_id=row.id, refreshes=0)
        s.add(out)
    out.columns, out.rows = cols, [[r.get(c["id"]) for c in cols] for r in kept]
    out.quasi_identifiers, out.cohort_size, out.row_count = qis, len(ids), len(kept)
    out.k_before, out.k_anonymity = report["k_before"], report["k_anonymity"]
    out.suppressed_rows, out.suppressed_cells = report["suppressed_rows"], report["suppressed_cells"]
    out.sensitive_attributes = sensitive
    out.l_before, out.l_diversity = report.get("l_before"), report.get("l_diversity")
    out.below_l = report.get("below_l", [])[:MAX_BELOW_L]
    out.suppressed_rows_l = report.get("suppressed_rows_l", 0)
    out.data_until = until
    out.built_at = clock.now()
    s.flush()
    return out


def sensitive_attributes(variables: list[str]) -> list[str]:
    """The project's variables that are sensitive attributes for l-diversity (`YGT_RESEARCH_SENSITIVE`)."""
    return [v for v in settings().sensitive if v in variables]


def _class_label(c: dict[str, Any]) -> str:
    return "、".join(f"{crit.variable_label(q)}={v if v is not None else '未记录'}" for q, v in c["class"].items()) \
        or "全部"


def extract_summary(out: ResearchExtract, k: int, lv: int = 1) -> dict[str, Any]:
    sensitive = list(out.sensitive_attributes or [])
    l_label = ("—（无敏感属性）" if not sensitive else "—（无数据行）" if out.l_diversity is None
               else str(out.l_diversity))
    return {"l_before": out.l_before, "l_diversity": out.l_diversity, "l_required": lv, "l_label": l_label,
            "meets_l": out.l_diversity is None or out.l_diversity >= lv,
            "sensitive_attributes": sensitive,
            "sensitive_label": "、".join(crit.variable_label(a) for a in sensitive) or "无",
            "below_l": [{"label": _class_label(c), "size": c["size"], "attribute": c["attribute"],
                         "attribute_label": crit.variable_label(c["attribute"]), "distinct": c["distinct"]}
                        for c in (out.below_l or [])],
            "suppressed_rows_l": out.suppressed_rows_l or 0,
            "cohort_size": out.cohort_size, "row_count": out.row_count, "k_before": out.k_before,
            "k_anonymity": out.k_anonymity, "k_required": k,
            "k_label": "—（无数据行）" if out.k_anonymity is None else str(out.k_anonymity),
            "meets_k": out.k_anonymity is None or out.k_anonymity >= k,
            "quasi_identifiers": out.quasi_identifiers,
            "qi_label": "、".join(crit.variable_label(q) for q in out.quasi_identifiers) or "无",
            "suppressed_rows": out.suppressed_rows, "suppressed_cells": out.suppressed_cells,
            "columns": [c["label"] for c in out.columns], "built_at": out.built_at.isoformat(),
            "data_until": out.data_until.isoformat() if out.data_until else None, "refreshes": out.refreshes or 0}


def extract_of(project_id: int) -> ResearchExtract | None:
    return session().scalars(select(ResearchExtract).where(ResearchExtract.project_id == project_id)).first()


def downloads_of(project_id: int) -> list[ResearchDownload]:
    return list(session().scalars(select(ResearchDownload).where(ResearchDownload.project_id == project_id)
                                  .order_by(ResearchDownload.id)))


def _csv(out: ResearchExtract) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([c["label"] for c in out.columns])
    writer.writerows(["" if v is None else v for v in r] for r in out.rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")        # BOM: Excel opens Chinese headers correctly


def _xlsx(out: ResearchExtract) -> bytes:
    wb = Workbook()
    sheet(wb, "数据", [c["label"] for c in out.columns], [list(r) for r in out.rows], first=True)
    return to_bytes(wb)


def _check_downloadable(p: Principal, project_id: int) -> tuple[ResearchProject, int]:
    """The requester's released, unexpired project with downloads left: (row, downloads used). 409
    `extract_not_released`; 410 `extract_expired`, `download_limit_reached`."""
    s = session()
    row = _own(p, project_id, lock=True)
    if row.status != "released":
        raise Conflict("数据集尚未发布 (extract not released)", code="extract_not_released",
                       status_label=STATUS_LABELS[row.status])
    if row.expires_at is not None and clock.now() >= row.expires_at:
        raise Gone("下载已过期 (download period has ended)", code="extract_expired",
                   expires_at=row.expires_at.isoformat())
    used = s.execute(select(func.count()).select_from(ResearchDownload).where(
        ResearchDownload.project_id == row.id)).scalar_one()
    if used >= row.download_limit:
        raise Gone("下载次数已用完 (download limit reached)", code="download_limit_reached",
                   limit=row.download_limit)
    return row, used


def download(p: Principal, project_id: int, fmt: str) -> tuple[bytes, str, str]:
    """(body, mimetype, filename). 409 `extract_not_released`; 410 `extract_expired`, `download_limit_reached`."""
    with unit_of_work() as s:
        row, used = _check_downloadable(p, project_id)
        out = extract_of(row.id)
        if out is None:
            raise Conflict("数据集尚未生成 (extract not built)", code="extract_not_released")
        s.add(ResearchDownload(project_id=row.id, user_id=p.user_id, username=p.username, format=fmt,
                               data_until=out.data_until, at=clock.now()))
        audit("research.download", object_type="research_project", object_id=row.id, principal=p,
              details={"format": fmt, "rows": out.row_count, "n": used + 1, "limit": row.download_limit})
        body = _csv(out) if fmt == "csv" else _xlsx(out)
        return body, FORMATS[fmt], f"research-{row.id}.{fmt}"


class ApprovalExpired(Gone):
    code = "approval_expired"


def refresh(p: Principal, project_id: int, until: date | None, fmt: str) -> tuple[bytes, str, str]:
    """A refreshed extract of an approved project: the same cohort criteria and variables re-run on the data up to
    `until` (default today; never in the future), under the project's own secret — so every resident keeps their
    research id and date shift — de-identified, suppressed to k and l again, and downloaded at once. Only within
    the approval's validity (410 `approval_expired`), counted against the download limit (410
    `download_limit_reached`) and logged (`research_downloads.refresh`, audit `research.refresh`)."""
    with unit_of_work() as s:
        today = clock.today()
        if until is not None and until > today:
            raise Invalid("数据截止日期不能晚于今天", code="invalid_until", field="until")
        try:
            row, used = _check_downloadable(p, project_id)
        except Gone as exc:
            if exc.code == "extract_expired":
                raise ApprovalExpired("审批有效期已过，不能刷新数据集 (the approval has expired)",
                                      expires_at=exc.details.get("expires_at")) from exc
            raise
        cutoff = until or today
        out = _build(row, until=cutoff)
        out.refreshes = (out.refreshes or 0) + 1
        s.add(ResearchDownload(project_id=row.id, user_id=p.user_id, username=p.username, format=fmt, refresh=True,
                               data_until=cutoff, at=clock.now()))
        audit("research.refresh", object_type="research_project", object_id=row.id, principal=p,
              details={"format": fmt, "rows": out.row_count, "data_until": cutoff.isoformat(), "n": used + 1,
                       "limit": row.download_limit, "k": out.k_anonymity, "l": out.l_diversity})
        body = _csv(out) if fmt == "csv" else _xlsx(out)
        return body, FORMATS[fmt], f"research-{row.id}-{cutoff.isoformat()}.{fmt}"
