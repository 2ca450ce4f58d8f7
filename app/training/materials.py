"""Materials of a session: slides, documents and videos from the lecturer and the trainer, on-site photos as
evidence that the session took place. Each upload is checked before anything is stored: its size against the
kind's limit, its type by content (magic numbers, container structure; never the file name), and for photos the
EXIF time against the session window. Files are served only to the roster, the lecturer and the managers."""
from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import IO, Any

from sqlalchemy import select

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session, unit_of_work
from app.vocabulary import MaterialKind

from . import access, sniff, storage
from .errors import SessionLocked, SessionNotFound, UploadRefused
from .models import ExamPaper, Material, TrainingSession
from .services import enrolment_of, get_session
from .settings import settings

KINDS = tuple(sniff.ACCEPTED)
UPLOAD_PHASES = ("approved", "notified", "sign_in_open", "attendance_closed", "materials_done", "exam_open",
                 "makeup_open")


def limit_for(kind: str) -> int:
    cfg = settings()
    return {"video": cfg.max_video_bytes, "photo": cfg.max_photo_bytes}.get(kind, cfg.max_document_bytes)


def _may_upload(p: Principal, row: TrainingSession) -> bool:
    return access.manages(p, row.org_path) or row.lecturer_user_id == p.user_id


def _safe_name(name: str | None) -> str:
    base = re.sub(r"[\\/\x00-\x1f]", "_", (name or "file").strip())[-120:]
    return base or "file"


def upload(p: Principal, session_id: int, *, kind: str, stream: IO[bytes], file_name: str | None,
           declared_size: int | None = None) -> Material:
    """Check and store one file; refused uploads leave nothing behind (422/413 with the reason)."""
    row = get_session(p, session_id)
    if not _may_upload(p, row):
        raise SessionNotFound("培训不存在 (training session not found)")
    if row.phase not in UPLOAD_PHASES:
        raise SessionLocked("当前阶段不能上传资料", phase=row.phase)
    if kind not in KINDS:
        raise UploadRefused("资料类别不正确", code="invalid_material_kind", allowed=list(KINDS))
    size = _size(stream)
    limit = limit_for(kind)
    if size > limit or (declared_size or 0) > limit:
        raise UploadRefused(f"{MaterialKind.label_of(kind)}不能超过 {limit // (1024 * 1024)} MB", code="file_too_large",
                            status=413, limit_bytes=limit, size_bytes=size)
    if size == 0:
        raise UploadRefused("文件为空", code="empty_file")
    found = sniff.sniff(stream)
    if found.mime not in sniff.ACCEPTED[kind]:
        raise UploadRefused(f"文件内容不是可接受的{MaterialKind.label_of(kind)}格式（检测为：{found.label}）",
                            code="unsupported_file_type", detected=found.mime, accepted=sorted(sniff.ACCEPTED[kind]))
    taken_at = _check_photo(row, stream) if kind == "photo" else None
    digest = _sha256(stream)
    key = f"sessions/{row.id}/{uuid.uuid4().hex}"
    storage.backend().put(key, stream, size=size, content_type=found.mime)
    with unit_of_work() as s:
        material = Material(session_id=row.id, kind=kind, file_name=_safe_name(file_name), mime=found.mime,
                            size_bytes=size, sha256=digest, storage_key=key, taken_at=taken_at,
                            uploaded_by=p.username, uploaded_at=clock.now())
        s.add(material)
        s.flush()
        return material


def _size(stream: IO[bytes]) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def _sha256(stream: IO[bytes]) -> str:
    h = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(1024 * 1024):
        h.update(chunk)
    stream.seek(0)
    return h.hexdigest()


def _check_photo(row: TrainingSession, stream: IO[bytes]):
    taken = sniff.photo_taken_at(stream, clock.local_tz())
    if taken is None:
        raise UploadRefused("照片没有拍摄时间（EXIF），请上传手机相机直接拍摄的原图", code="photo_without_exif_time")
    slack = timedelta(minutes=settings().photo_tolerance_min)
    if not row.starts_at - slack <= taken <= row.ends_at + slack:
        raise UploadRefused("照片拍摄时间不在培训时间内", code="photo_outside_session",
                            taken_at=taken.isoformat(), starts_at=row.starts_at.isoformat(),
                            ends_at=row.ends_at.isoformat())
    return taken


def materials_of(session_id: int) -> list[Material]:
    return list(session().scalars(select(Material).where(Material.session_id == session_id,
                                                         Material.deleted_at.is_(None)).order_by(Material.id)))


def download(p: Principal, material_id: int) -> tuple[Material, Iterator[bytes]]:
    """The file, for the roster, the lecturer and the managers/overseers only (others: 404)."""
    material = session().get(Material, material_id)
    if material is None or material.deleted_at is not None:
        raise SessionNotFound("资料不存在 (material not found)")
    row = session().get(TrainingSession, material.session_id)
    allowed = access.oversees(p, row.org_path) or row.lecturer_user_id == p.user_id or \
        enrolment_of(row.id, p.user_id) is not None
    if not allowed:
        raise SessionNotFound("资料不存在 (material not found)")
    return material, storage.backend().open(material.storage_key)


def remove(p: Principal, material_id: int) -> None:
    with unit_of_work():
        material = session().get(Material, material_id)
        row = session().get(TrainingSession, material.session_id) if material else None
        if material is None or row is None or not _may_upload(p, row) or material.deleted_at is not None:
            raise SessionNotFound("资料不存在 (material not found)")
        if row.phase in ("summary", "completed"):
            raise SessionLocked("培训已小结，资料不能删除", phase=row.phase)
        material.deleted_at = clock.now()


def completeness(session_id: int) -> dict[str, Any]:
    """What the materials step still lacks: on-site photos (offline sessions) and the exam paper."""
    row = session().get(TrainingSession, session_id)
    items = materials_of(session_id)
    photos = sum(1 for m in items if m.kind == "photo")
    problems = []
    if row.mode == "offline" and photos < settings().min_photos:
        problems.append(f"现场照片至少 {settings().min_photos} 张（已上传 {photos} 张）")
    if not any(m.kind in ("slides", "document", "video") for m in items):
        problems.append("请上传课件、讲义或视频")
    if row.assessment == "exam":
        paper = session().scalars(select(ExamPaper).where(ExamPaper.session_id == session_id)).first()
        if paper is None or not paper.item_ids:
            problems.append("请组卷（从题库选题）后再结束资料上传")
    return {"ok": not problems, "problems": problems, "photos": photos, "files": len(items)}
