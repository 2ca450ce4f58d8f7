"""The pure parts of training: the rotating QR token, geofence arithmetic and map-datum conversion, content sniffing
and EXIF time, exam marking by the late rule, credit arithmetic."""
from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app.training import credits, exams, geo, qr, sniff
from tests.training_support import jpeg, pdf_bytes

SECRET = "s3cret"
T0 = datetime(2026, 12, 5, 1, 0, 0, tzinfo=UTC)


# -- QR token ----------------------------------------------------------------------------------------------

def test_a_token_is_valid_while_shown_and_a_little_after_it_rotates():
    token, rotates = qr.make_token(SECRET, 7, T0, 30)
    assert qr.check_token(SECRET, 7, token, T0 + timedelta(seconds=29), period_s=30, grace_s=10).ok
    after = datetime.fromtimestamp(rotates + 9, tz=UTC)
    assert qr.check_token(SECRET, 7, token, after, period_s=30, grace_s=10).ok


def test_a_token_photographed_and_used_later_has_expired():
    token, rotates = qr.make_token(SECRET, 7, T0, 30)
    later = datetime.fromtimestamp(rotates + 11, tz=UTC)
    assert qr.check_token(SECRET, 7, token, later, period_s=30, grace_s=10).code == "sign_in_token_expired"


def test_a_token_of_another_session_or_a_forged_one_is_invalid():
    token, _ = qr.make_token(SECRET, 7, T0, 30)
    assert qr.check_token(SECRET, 8, token, T0, period_s=30, grace_s=10).code == "sign_in_token_invalid"
    assert qr.check_token("other", 7, token, T0, period_s=30, grace_s=10).code == "sign_in_token_invalid"
    assert qr.check_token(SECRET, 7, "garbage", T0, period_s=30, grace_s=10).code == "sign_in_token_invalid"


def test_a_token_from_the_future_is_invalid():
    token, _ = qr.make_token(SECRET, 7, T0 + timedelta(minutes=5), 30)
    assert qr.check_token(SECRET, 7, token, T0, period_s=30, grace_s=10).code == "sign_in_token_invalid"


def test_the_qr_code_is_an_svg_of_the_url():
    svg = qr.svg("https://example.org/training/sign-in/7?t=1.abc")
    assert svg.startswith("<svg") and "path" in svg


# -- geofence ----------------------------------------------------------------------------------------------

def test_haversine_distance_of_a_known_pair():
    # one minute of latitude is about 1,852 m
    assert geo.distance_m(30.0, 120.0, 30.0 + 1 / 60, 120.0) == pytest.approx(1853, abs=3)


def test_gcj02_round_trip_and_offset():
    lat, lon = 30.2741, 120.1551
    g_lat, g_lon = geo.wgs84_to_gcj02(lat, lon)
    assert 200 < geo.distance_m(lat, lon, g_lat, g_lon) < 800          # the datum shift is hundreds of metres
    back = geo.gcj02_to_wgs84(g_lat, g_lon)
    assert geo.distance_m(lat, lon, *back) < 1


def test_bd09_converts_through_gcj02():
    lat, lon = 30.2741, 120.1551
    g_lat, g_lon = geo.wgs84_to_gcj02(lat, lon)
    bd = (g_lat + 0.006, g_lon + 0.0065)     # the coarse form of the BD-09 shift
    assert geo.distance_m(lat, lon, *geo.to_wgs84(*bd, "bd09")) < 40


def test_coordinates_outside_china_are_not_shifted():
    assert geo.wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)


# -- content sniffing --------------------------------------------------------------------------------------

def _zip(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for n in names:
            z.writestr(n, "<x/>")
    return out.getvalue()


@pytest.mark.parametrize(("content", "mime"), [
    (pdf_bytes(), "application/pdf"),
    (_zip("ppt/presentation.xml"), sniff.PPTX),
    (_zip("word/document.xml"), sniff.DOCX),
    (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, sniff.PPT),
])
def test_types_are_found_from_content(content, mime):
    assert sniff.sniff(io.BytesIO(content)).mime == mime


def test_a_renamed_executable_is_not_a_pdf():
    found = sniff.sniff(io.BytesIO(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100))
    assert found.mime not in sniff.ACCEPTED["slides"]


def test_exif_time_is_read_in_the_camera_zone():
    taken = datetime(2026, 12, 5, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert sniff.photo_taken_at(io.BytesIO(jpeg(taken)), ZoneInfo("Asia/Shanghai")) == taken.astimezone(UTC)
    assert sniff.photo_taken_at(io.BytesIO(jpeg(None)), ZoneInfo("Asia/Shanghai")) is None


# -- marking ---------------------------------------------------------------------------------------------

def _paper():
    return SimpleNamespace(pass_mark=60, items_snapshot=[{"id": 1, "answer": ["A"]}, {"id": 2, "answer": ["B", "C"]}])


def _attempt(answers):
    return SimpleNamespace(deadline_at=T0, answers=answers, late=False, correct=None, score=None, passed=None,
                           status="in_progress", submitted_at=None)


def test_multiple_choice_is_all_or_nothing():
    attempt = _attempt({"1": {"keys": ["A"], "at": T0.isoformat()}, "2": {"keys": ["B"], "at": T0.isoformat()}})
    exams._mark(attempt, _paper(), T0)
    assert attempt.score == 50 and attempt.passed is False and attempt.late is False


def test_answers_saved_after_the_limit_do_not_count(monkeypatch):
    late = (T0 + timedelta(minutes=5)).isoformat()
    attempt = _attempt({"1": {"keys": ["A"], "at": T0.isoformat()}, "2": {"keys": ["B", "C"], "at": late}})
    exams._mark(attempt, _paper(), T0 + timedelta(minutes=5))
    assert attempt.late is True and attempt.score == 50 and attempt.correct == {"1": True, "2": False}


def test_the_zero_policy_scores_a_late_attempt_zero(monkeypatch):
    from app.training import settings as training_settings
    monkeypatch.setenv("YGT_TRAINING_EXAM_LATE_POLICY", "zero")
    training_settings.settings.cache_clear()
    try:
        attempt = _attempt({"1": {"keys": ["A"], "at": T0.isoformat()}})
        exams._mark(attempt, _paper(), T0 + timedelta(minutes=5))
        assert attempt.score == 0 and attempt.late is True
    finally:
        training_settings.settings.cache_clear()


# -- credit arithmetic -----------------------------------------------------------------------------------

def test_participant_credits_round_down_to_the_step():
    rule = {"participant_hours_per_credit": 3, "credit_step": 1}
    assert credits._participant_credits(rule, 8)[0] == 2
    assert credits._participant_credits({**rule, "credit_step": 0.5}, 8)[0] == 2.5


def test_per_session_credits_and_lecturer_hours():
    assert credits._participant_credits({"participant_credits_per_session": 0.5}, 2)[0] == 0.5
    assert credits._lecturer_credits({"lecturer_credits_per_hour": 2}, 3)[0] == 6
    assert credits._lecturer_credits({"lecturer_credits_per_session": 2}, 3)[0] == 2


def test_meeting_the_minimum_needs_both_classes():
    minimum = {"min_total": 25, "min_class1": 5, "min_class2": 15}
    assert credits.meets({"credits": 25, "I": 5, "II": 20}, minimum)
    assert not credits.meets({"credits": 30, "I": 30, "II": 0}, minimum)
