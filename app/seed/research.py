"""Demo research extraction (科研数据): the county's researcher 韩雅琪 has one hypertension project approved by the
supervisor (the data/ethics committee), its de-identified extract built and released (3 downloads left), so the
科研数据 page shows a finished project with its k-anonymity next to the one a demo visitor drafts."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.research import services as research
from app.research.models import ResearchProject
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

RESEARCHER, COMMITTEE = "researcher", "supervisor"
PROJECT = {"title": "高血压患者风险分层与血压控制（示例）",
           "purpose": "描述在管高血压患者的风险分层构成与末次收缩压，评估分层管理效果（示例项目）。",
           "criteria": {"diseases": ["htn"], "age_min": 35},
           "variables": ["sex", "age_band", "township", "risk_level", "enrolled_on", "follow_up_count",
                         "obs_last:8480-6", "obs_last:8462-4"],
           "date_mode": "month", "k": 5}


def _open(instance_id: int | None, element_id: str) -> HumanTask | None:
    return session().scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.element_id == element_id,
                                                     HumanTask.status == "open")).first()


def seed_research(complete: Callable[[str, Any, dict], Any], principal: Callable[[str], Any]) -> dict[str, int]:
    """`complete(username, task, data)` completes a task as that demo user; `principal(username)` is their Principal."""
    if research.PROCESS not in latest_process_versions(session()):
        return {}
    if session().scalars(select(ResearchProject.id).limit(1)).first() is not None:
        return {}
    row = research.create(principal(RESEARCHER), PROJECT)
    research.submit(principal(RESEARCHER), row.id)
    review = _open(row.instance_id, "review_request")
    if review is None:          # the model did not open the committee's task: leave the project submitted
        return {"research_projects": 1}
    complete(COMMITTEE, review, {"decision": "approve", "comment": "同意。仅限本研究使用，不得尝试重新识别。"})
    release = _open(row.instance_id, "release_review")
    if release is not None:
        complete(COMMITTEE, release, {"release": True, "release_comment": "k 值达标，同意发布。"})
    return {"research_projects": 1}
