"""Demo custom report (自定义报表): the supervisor's saved 各乡镇血压控制率 (last three months, 环比), shared with the
supervisors and delivered as Excel on the 1st of each month, so the 自定义报表 page opens with one saved report."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.services import find_user, principal_for
from app.core import clock
from app.core.db import session
from app.report_builder import services as reports
from app.report_builder.models import SavedReport

OWNER, NAME = "supervisor", "各乡镇血压控制率（近三月）"


def seed_reports() -> dict[str, int]:
    """The saved report, once."""
    user = find_user(OWNER)
    if user is None or session().scalars(select(SavedReport.id).where(SavedReport.owner_id == user.id,
                                                                       SavedReport.name == NAME)).first():
        return {}
    end = clock.today().replace(day=1)
    first = (end.year * 12 + end.month - 1) - 2
    definition = {"measures": [{"kind": "indicator", "code": "htn_bp_control_rate"}],
                  "dimensions": ["org", "period"], "compare": ["mom"],
                  "period": {"from": f"{first // 12:04d}-{first % 12 + 1:02d}", "to": end.strftime("%Y-%m"),
                             "granularity": "month"}}
    reports.save_report(principal_for(user), {"name": NAME, "definition": definition, "shared_role": "supervisor",
                                              "schedule_day": 1, "schedule_format": "xlsx"})
    return {"saved_reports": 1}
