"""Helpers of the training tests (no tests here): deploy the real model, people, files, and the clock."""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image

from app.core import clock
from tests.helpers import REPO

SHANGHAI = ZoneInfo("Asia/Shanghai")
VENUE = (30.2741, 120.1551)          # WGS-84, the county hospital's lecture hall in the tests
MODELS = [REPO / "bpmn" / "training_session.bpmn", REPO / "forms" / "training_session", REPO / "dmn"]


def deploy_training(app) -> dict:
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        return deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder").to_dict()


def fire_timers(app, *, minutes: float = 0) -> None:
    """Move the platform clock and let the scheduler fire what is due (eager jobs run inline)."""
    from app.workflows import jobs
    if minutes:
        clock.advance(timedelta(minutes=minutes))
    with app.app_context():
        jobs.enqueue_due_timers()


def jpeg(taken: datetime | None, *, size=(64, 48)) -> bytes:
    """A small JPEG photo with EXIF DateTimeOriginal (camera local time, +08:00) unless `taken` is None."""
    img = Image.new("RGB", size, (180, 40, 40))
    out = io.BytesIO()
    if taken is None:
        img.save(out, "JPEG")
    else:
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = taken.astimezone(SHANGHAI).strftime("%Y:%m:%d %H:%M:%S")
        img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def pdf_bytes() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def session_body(start: datetime, *, hours: float = 3, **extra) -> dict:
    return {"topic": "高血压基层规范化管理", "category": "cme_project", "level": "national_1",
            "project_no": "2026-04-01-001(国)", "lecturer_name": "张医生", "lecturer_title": "主任医师",
            "lecturer_org": "县人民医院心内科", "target_roles": ["township_doctor", "village_doctor"],
            "target_org_codes": ["C01T01"], "mode": "offline", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=hours)).isoformat(), "venue": "县医院三楼学术报告厅",
            "venue_lat": VENUE[0], "venue_lon": VENUE[1], "hours": hours, "assessment": "exam", **extra}


def near(lat: float, lon: float, metres_north: float) -> tuple[float, float]:
    return lat + metres_north / 111_195.0, lon
