"""Which messages we take and in what segment order (abstract message structures ADT_A01, ORU_R01 and REF_I12, reduced to
the segments we read; Z-segments and others we do not know may appear anywhere)."""
from __future__ import annotations

from .message import (
    REQUIRED_MISSING,
    SEGMENT_SEQUENCE,
    UNSUPPORTED_EVENT,
    UNSUPPORTED_MESSAGE_TYPE,
    UNSUPPORTED_PROCESSING_ID,
    UNSUPPORTED_VERSION,
    Hl7Error,
    Parsed,
    Problem,
)

SUPPORTED = {("ADT", "A01"), ("ADT", "A03"), ("ADT", "A04"), ("ADT", "A08"), ("ORU", "R01"), ("REF", "I12")}
VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8")
ADT_ORDER = ("MSH", "SFT", "EVN", "PID", "PD1", "ROL", "NK1", "PV1", "PV2", "DB1", "OBX", "AL1", "DG1", "DRG",
             "PR1", "GT1", "IN1", "IN2", "IN3", "ACC", "UB1", "UB2", "PDA")


def check_header(p: Parsed) -> None:
    """Reject (AR) what we cannot take at all: no control id, unknown type/event, test/training, odd version."""
    if not p.control_id:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少消息控制号 MSH-10 (message control id)", "MSH", 1, 10)],
                       ack_code="AR")
    if p.msg_type not in {t for t, _ in SUPPORTED}:
        raise Hl7Error([Problem(UNSUPPORTED_MESSAGE_TYPE, f"不支持的消息类型 {p.msg_type or '(空)'}", "MSH", 1, 9, 1)],
                       ack_code="AR")
    if (p.msg_type, p.event) not in SUPPORTED:
        raise Hl7Error([Problem(UNSUPPORTED_EVENT, f"不支持的触发事件 {p.msg_type}^{p.event}", "MSH", 1, 9, 2)],
                       ack_code="AR")
    if p.processing_id[:1] not in ("P", ""):
        raise Hl7Error([Problem(UNSUPPORTED_PROCESSING_ID, f"只接受生产消息 P (processing id {p.processing_id})",
                                "MSH", 1, 11)], ack_code="AR")
    if p.version and p.version not in VERSIONS:
        raise Hl7Error([Problem(UNSUPPORTED_VERSION, f"不支持的版本 {p.version}", "MSH", 1, 12)], ack_code="AR")


def check_order(p: Parsed) -> None:
    """Segment order and required segments (AE, error 100/101 naming the offending segment)."""
    problems = _adt_order(p) if p.msg_type == "ADT" else _ref_order(p) if p.msg_type == "REF" else _oru_order(p)
    if problems:
        raise Hl7Error(problems)


def _occurrence(ids: list[str], index: int) -> int:
    return ids[: index + 1].count(ids[index])


def _adt_order(p: Parsed) -> list[Problem]:
    rank = {s: i for i, s in enumerate(ADT_ORDER)}
    highest = 0
    for i, seg in enumerate(p.ids):
        if seg not in rank:
            continue
        if rank[seg] < highest and not (seg == "OBX" or seg in ("DG1", "PR1", "NK1")):
            return [Problem(SEGMENT_SEQUENCE, f"{seg} 段位置错误 (segment out of order)", seg, _occurrence(p.ids, i))]
        highest = max(highest, rank[seg])
    missing = [s for s in ("PID", "PV1") if s not in p.ids]
    return [Problem(REQUIRED_MISSING, f"缺少 {s} 段 (required segment missing)", s, 1) for s in missing]


def _ref_order(p: Parsed) -> list[Problem]:
    """REF_I12 as we read it: MSH, RF1, the PRD of each end, then PID (and DG1 after it)."""
    for seg in ("RF1", "PRD", "PID"):
        if seg not in p.ids:
            return [Problem(REQUIRED_MISSING, f"缺少 {seg} 段 (required segment missing)", seg, 1)]
    pid = p.ids.index("PID")
    for seg in ("RF1", "PRD"):
        if p.ids.index(seg) > pid:
            return [Problem(SEGMENT_SEQUENCE, f"{seg} 须在 PID 之前 ({seg} after PID)", seg, 1)]
    if p.count("PID") > 1:
        return [Problem(SEGMENT_SEQUENCE, "每条消息只接受一位患者 (one PID per message)", "PID", 2)]
    return []


def _oru_order(p: Parsed) -> list[Problem]:
    seen_pid = seen_obr = False
    for i, seg in enumerate(p.ids[1:], start=1):
        where = _occurrence(p.ids, i)
        if seg == "MSH":
            return [Problem(SEGMENT_SEQUENCE, "MSH 段只能出现一次 (second MSH)", "MSH", where)]
        if seg == "PID":
            if seen_pid:
                return [Problem(SEGMENT_SEQUENCE, "每条消息只接受一位患者 (one PID per message)", "PID", where)]
            if seen_obr:
                return [Problem(SEGMENT_SEQUENCE, "PID 须在 OBR 之前 (PID after OBR)", "PID", where)]
            seen_pid = True
        elif seg in ("ORC", "OBR"):
            if not seen_pid:
                return [Problem(SEGMENT_SEQUENCE, f"{seg} 须在 PID 之后 ({seg} before PID)", seg, where)]
            seen_obr = seen_obr or seg == "OBR"
        elif seg == "OBX" and not seen_obr:
            return [Problem(SEGMENT_SEQUENCE, "OBX 须跟在 OBR 之后 (OBX before any OBR)", "OBX", where)]
    if not seen_pid:
        return [Problem(REQUIRED_MISSING, "缺少 PID 段 (required segment missing)", "PID", 1)]
    if not seen_obr:
        return [Problem(REQUIRED_MISSING, "缺少 OBR 段 (required segment missing; truncated message?)", "OBR", 1)]
    return []
