"""Read an HL7 v2 message: decode, normalise segment separators to `\\r`, parse with python-hl7, and read fields
with their location so every problem can be reported as an ERR segment (segment^sequence^field)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

import hl7

from app.core import clock
from app.core.errors import DomainError

_DTM = re.compile(r"^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?$")
CHARSETS = {"UNICODE UTF-8": "utf-8", "UTF-8": "utf-8", "GB 18030-2000": "gb18030", "GB18030": "gb18030",
            "GB2312": "gb18030", "ASCII": "ascii", "8859/1": "latin-1"}

# HL7 table 0357 (message error condition codes)
SEGMENT_SEQUENCE = "100"
REQUIRED_MISSING = "101"
DATA_TYPE = "102"
TABLE_VALUE = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT = "201"
UNSUPPORTED_PROCESSING_ID = "202"
UNSUPPORTED_VERSION = "203"
UNKNOWN_KEY = "204"
DUPLICATE_KEY = "205"
INTERNAL_ERROR = "207"
CODE_TEXT = {"100": "Segment sequence error", "101": "Required field missing", "102": "Data type error",
             "103": "Table value not found", "200": "Unsupported message type", "201": "Unsupported event code",
             "202": "Unsupported processing id", "203": "Unsupported version id", "204": "Unknown key identifier",
             "205": "Duplicate key identifier",
             "207": "Application internal error"}


@dataclass
class Problem:
    code: str                       # HL7 table 0357
    text: str                       # what a person reads (ERR-8)
    segment: str = ""
    sequence: int = 1               # which occurrence of the segment (1-based)
    field: int | None = None
    component: int | None = None

    def location(self) -> str:
        parts = [self.segment, str(self.sequence) if self.segment else "",
                 str(self.field) if self.field else "", "1" if self.component else "",
                 str(self.component) if self.component else ""]
        return "^".join(parts).rstrip("^")


class Hl7Error(DomainError):
    """A message we answer AE (content error) or AR (rejected outright); nothing of it is stored."""

    status, code = 200, "hl7_error"

    def __init__(self, problems: list[Problem], *, ack_code: str = "AE") -> None:
        super().__init__(problems[0].text, problems=[p.__dict__ for p in problems])
        self.problems = problems
        self.ack_code = ack_code


def decode(raw: bytes, content_type: str = "") -> str:
    """Bytes to text: the charset named by Content-Type or MSH-18, else UTF-8, else GB 18030 (common in HIS)."""
    match = re.search(r"charset=([\w\-]+)", content_type or "", re.IGNORECASE)
    if match:
        return raw.decode(match.group(1), errors="strict")
    head = raw.split(b"\r", 1)[0].split(b"\n", 1)[0]
    fields = head.split(b"|")
    if len(fields) > 17 and fields[17].strip():
        name = fields[17].split(b"~")[0].decode("ascii", errors="ignore").strip().upper()
        if name in CHARSETS:
            return raw.decode(CHARSETS[name], errors="strict")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def normalise(text: str) -> str:
    """`\\r\\n`, `\\n` and stray blank lines become single `\\r` segment separators."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\x0b\x1c\r ")
    return "\r".join(seg for seg in text.split("\r") if seg.strip())


@dataclass
class Parsed:
    message: hl7.Message
    text: str
    msg_type: str
    event: str
    control_id: str
    sending_app: str
    sending_facility: str
    version: str
    processing_id: str
    charset: str = ""
    ids: list[str] = field(default_factory=list)   # segment ids in order

    def get(self, segment: str, seq: int, fld: int, comp: int = 1, rep: int = 1) -> str:
        try:
            return self.message.extract_field(segment, seq, fld, rep, comp).strip()
        except (IndexError, KeyError):
            return ""

    def count(self, segment: str) -> int:
        return self.ids.count(segment)

    def repetitions(self, segment: str, seq: int, fld: int) -> int:
        try:
            seg = self.message.segments(segment)[seq - 1]
            return len(seg[fld]) if len(seg) > fld else 0
        except (IndexError, KeyError):
            return 0


def parse(text: str) -> Parsed:
    """Parse a normalised message; an unreadable MSH is rejected (AR)."""
    text = normalise(text)
    if not text.startswith("MSH") or len(text) < 8:
        raise Hl7Error([Problem(SEGMENT_SEQUENCE, "报文须以 MSH 段开头 (message must start with MSH)", "MSH", 1)],
                       ack_code="AR")
    try:
        message = hl7.parse(text)
    except Exception as exc:  # noqa: BLE001  (python-hl7 raises several types on garbage)
        raise Hl7Error([Problem(DATA_TYPE, f"无法解析报文 (unparseable message): {exc}", "MSH", 1)],
                       ack_code="AR") from None
    ids = [str(seg[0]) for seg in message]
    p = Parsed(message, text, "", "", "", "", "", "", "", ids=ids)
    p.msg_type, p.event = p.get("MSH", 1, 9, 1), p.get("MSH", 1, 9, 2)
    p.control_id, p.sending_app, p.sending_facility = p.get("MSH", 1, 10), p.get("MSH", 1, 3), p.get("MSH", 1, 4)
    p.processing_id, p.version, p.charset = p.get("MSH", 1, 11), p.get("MSH", 1, 12), p.get("MSH", 1, 18)
    return p


def parse_dtm(value: str, where: Problem) -> datetime:
    """An HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]) as an aware datetime (local time when no offset)."""
    if not _DTM.match(value):
        raise Hl7Error([where])
    try:
        parsed = hl7.parse_datetime(value)
    except ValueError:
        raise Hl7Error([where]) from None
    # stored as UTC: UTCDateTime keeps the wall time of other offsets on SQLite
    return clock.assume_local(parsed)    # HL7 times without an offset are county local time


def parse_date(value: str, where: Problem) -> date:
    if not re.fullmatch(r"\d{8}(\d{2,6}([.]\d{1,4})?)?([+-]\d{4})?", value):
        raise Hl7Error([where])
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise Hl7Error([where]) from None


def escape(text: str) -> str:
    """Escape the default delimiters for use inside a field."""
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\")
    return out.replace("~", "\\R\\").replace("\r", " ").replace("\n", " ")
