"""What an uploaded file really is, from its bytes (never its name), and when a photo was taken (EXIF)."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import IO

import puremagic
from PIL import Image, UnidentifiedImageError

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPT = "application/vnd.ms-powerpoint"
# what each material kind accepts (sniffed types)
ACCEPTED = {
    "slides": {PPTX, PPT, "application/pdf"},
    "document": {"application/pdf", DOCX},
    "video": {"video/mp4", "video/quicktime", "video/webm"},
    "photo": {"image/jpeg"},
}
EXIF_DATETIME_ORIGINAL, EXIF_OFFSET_ORIGINAL, EXIF_DATETIME = 0x9003, 0x9011, 0x0132
EXIF_IFD = 0x8769


@dataclass(frozen=True)
class Sniffed:
    mime: str | None
    label: str


def _zip_mime(stream: IO[bytes]) -> str | None:
    try:
        with zipfile.ZipFile(stream) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return "application/zip"
    if any(n.startswith("ppt/") for n in names):
        return PPTX
    if any(n.startswith("word/") for n in names):
        return DOCX
    return "application/zip"


def _iso_media(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic"
    return "video/mp4"


def sniff(stream: IO[bytes]) -> Sniffed:
    """The MIME type of a seekable stream, by magic numbers (puremagic) and container structure."""
    stream.seek(0)
    head = stream.read(8192)
    stream.seek(0)
    if not head:
        return Sniffed(None, "空文件")
    if head.startswith(b"PK\x03\x04"):
        mime = _zip_mime(stream)
        stream.seek(0)
        return Sniffed(mime, mime or "zip")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video/webm" if b"webm" in head[:64] else "video/x-matroska", "webm")
    iso = _iso_media(head)
    if iso:
        return Sniffed(iso, iso)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Sniffed(PPT, "Office 97–2003")   # legacy OLE container (.ppt; .doc/.xls share it)
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        matches = []
    if not matches:
        return Sniffed(None, "未知类型")
    best = matches[0]
    return Sniffed(best.mime_type or None, best.name or best.extension)


def photo_taken_at(stream: IO[bytes], tz) -> datetime | None:
    """EXIF DateTimeOriginal as aware UTC; without an offset tag it is read in `tz` (the camera's local time)."""
    stream.seek(0)
    try:
        with Image.open(stream) as image:
            exif = image.getexif()
            sub = exif.get_ifd(EXIF_IFD)
            raw = sub.get(EXIF_DATETIME_ORIGINAL) or exif.get(EXIF_DATETIME)
            offset = sub.get(EXIF_OFFSET_ORIGINAL)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    finally:
        stream.seek(0)
    if not raw:
        return None
    try:
        local = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = _offset(offset) or tz
    return local.replace(tzinfo=zone).astimezone(UTC)


def _offset(text) -> timezone | None:
    try:
        sign = -1 if str(text).startswith("-") else 1
        hours, minutes = str(text).strip("+-\x00 ").split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    except (ValueError, AttributeError, TypeError):
        return None
