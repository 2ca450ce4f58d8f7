"""Demo research extraction (科研数据): the county administrator names its data/ethics committee (`supervisor`, the
chair, and `specialist_endo`); the county's researcher 韩雅琪 has one hypertension project every member voted for, its
de-identified extract built (k and l shown) and released (3 downloads left), and a diabetes project one member has
voted on while `specialist_endo`'s vote waits in the inbox — so the 科研数据 page shows a finished project with its
votes, k-anonymity and l-diversity, a vote in progress, next to the one a demo visitor drafts."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.research import services as research
from app.research.models import ResearchProject
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

RESEARCHER, COMMITTEE, CHAIR, ADMIN = "researcher", ("supervisor", "specialist_endo"), "supervisor", "county_admin"
OPINIONS = {"supervisor": "同意。仅限本研究使用，不得尝试重新识别。", "specialist_endo": "同意，建议补充糖尿病合并情况。"}
SECOND = {"title": "2型糖尿病患者血糖控制与随访（示例）",
          "purpose": "描述在管2型糖尿病患者的随访次数与末次空腹血糖（示例项目，委员会投票中）。",
          "criteria": {"diseases": ["t2dm"], "age_min": 35},
          "variables": ["sex", "age_band", "township", "risk_level", "follow_up_count", "obs_last:1558-6"],
          "date_mode": "month", "k": 5, "l": 2}
PROJECT = {"title": "高血压患者风险分层与血压控制（示例）",
           "purpose": "描述在管高血压患者的风险分层构成与末次收缩压，评估分层管理效果（示例项目）。",
           "criteria": {"diseases": ["htn"], "age_min": 35},
           "variables": ["sex", "age_band", "township", "risk_level", "enrolled_on", "follow_up_count",
                         "obs_last:8480-6", "obs_last:8462-4"],
           "date_mode": "month", "k": 5}


def _open(instance_id: int | None, element_id: str, assignee_id: int | None = None) -> HumanTask | None:
    stmt = select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.element_id == element_id,
                                   HumanTask.status == "open")
    if assignee_id is not None:
        stmt = stmt.where(HumanTask.assignee_id == assignee_id)
    return session().scalars(stmt).first()


def seed_research(complete: Callable[[str, Any, dict], Any], principal: Callable[[str], Any]) -> dict[str, int]:
    """`complete(username, task, data)` completes a task as that demo user; `principal(username)` is their Principal."""
    if research.PROCESS not in latest_process_versions(session()):
        return {}
    if session().scalars(select(ResearchProject.id).limit(1)).first() is not None:
        return {}
    research.set_committee(principal(ADMIN), list(COMMITTEE), CHAIR)
    row = research.create(principal(RESEARCHER), PROJECT)
    research.submit(principal(RESEARCHER), row.id)
    for member in COMMITTEE:
        vote = _open(row.instance_id, "committee_vote", principal(member).user_id)
        if vote is None:        # the model did not open the member's vote: leave the project under review
            return {"research_projects": 1}
        complete(member, vote, {"vote": "approve", "opinion": OPINIONS[member]})
    release = _open(row.instance_id, "release_review")
    if release is not None:
        complete(COMMITTEE[0], release, {"release": True, "release_comment": "k 与 l 达标，同意发布。"})
    second = research.create(principal(RESEARCHER), SECOND)
    research.submit(principal(RESEARCHER), second.id)
    vote = _open(second.instance_id, "committee_vote", principal(COMMITTEE[0]).user_id)
    if vote is not None:
        complete(COMMITTEE[0], vote, {"vote": "approve", "opinion": "同意。"})
    return {"research_projects": 2}
