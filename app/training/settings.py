"""Training settings from the environment, with the defaults of wave2 §5 ([P] values belong in configuration)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

MB = 1024 * 1024


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class TrainingSettings:
    province: str                   # input of the R8 decisions (training_credit_rule, training_annual_minimum)
    qr_period_s: int                # the venue QR token rotates this often
    qr_grace_s: int                 # a token scanned just before it rotated is still accepted this long
    geofence_radius_m: int          # default radius around the venue (a session may set its own)
    max_accuracy_m: int             # a position reported less precisely than this is refused
    sign_in_opens_min: int          # sign-in opens this long before the start
    late_after_min: int             # signed in later than start + this → late
    sign_out_opens_min: int         # sign-out opens this long before the end
    sign_out_grace_min: int         # sign-out stays open this long after the end
    min_presence_share: float       # share of the session a trainee must be present for full 学时 (online too)
    storage: str                    # "disk" | "s3"
    s3_endpoint: str | None
    s3_bucket: str
    s3_access_key: str | None
    s3_secret_key: str | None
    s3_region: str
    max_document_bytes: int
    max_video_bytes: int
    max_photo_bytes: int
    min_photos: int
    photo_tolerance_min: int        # EXIF time may lie this far outside the session window
    exam_pass_mark: int
    exam_time_limit_min: int
    exam_late_grace_s: int          # network grace after the time limit before an answer counts as late
    exam_late_policy: str           # "count_in_time" (answers saved after the limit do not count) | "zero"
    exam_window_days: int
    makeup_window_days: int


@lru_cache(maxsize=1)
def settings() -> TrainingSettings:
    env = os.environ.get
    return TrainingSettings(
        province=env("YGT_TRAINING_PROVINCE", "national"),
        qr_period_s=_int("YGT_TRAINING_QR_PERIOD_S", 30),
        qr_grace_s=_int("YGT_TRAINING_QR_GRACE_S", 10),
        geofence_radius_m=_int("YGT_TRAINING_GEOFENCE_M", 200),
        max_accuracy_m=_int("YGT_TRAINING_MAX_ACCURACY_M", 100),
        sign_in_opens_min=_int("YGT_TRAINING_SIGN_IN_OPENS_MIN", 30),
        late_after_min=_int("YGT_TRAINING_LATE_AFTER_MIN", 15),
        sign_out_opens_min=_int("YGT_TRAINING_SIGN_OUT_OPENS_MIN", 30),
        sign_out_grace_min=_int("YGT_TRAINING_SIGN_OUT_GRACE_MIN", 30),
        min_presence_share=_float("YGT_TRAINING_MIN_PRESENCE", 0.8),
        storage=env("YGT_TRAINING_STORAGE", "disk"),
        s3_endpoint=env("YGT_TRAINING_S3_ENDPOINT") or None,
        s3_bucket=env("YGT_TRAINING_S3_BUCKET", "ygt-training"),
        s3_access_key=env("YGT_TRAINING_S3_ACCESS_KEY") or None,
        s3_secret_key=env("YGT_TRAINING_S3_SECRET_KEY") or None,
        s3_region=env("YGT_TRAINING_S3_REGION", "us-east-1"),
        max_document_bytes=_int("YGT_TRAINING_MAX_DOCUMENT_MB", 50) * MB,
        max_video_bytes=_int("YGT_TRAINING_MAX_VIDEO_MB", 200) * MB,
        max_photo_bytes=_int("YGT_TRAINING_MAX_PHOTO_MB", 15) * MB,
        min_photos=_int("YGT_TRAINING_MIN_PHOTOS", 2),
        photo_tolerance_min=_int("YGT_TRAINING_PHOTO_TOLERANCE_MIN", 30),
        exam_pass_mark=_int("YGT_TRAINING_PASS_MARK", 60),
        exam_time_limit_min=_int("YGT_TRAINING_EXAM_MINUTES", 30),
        exam_late_grace_s=_int("YGT_TRAINING_EXAM_GRACE_S", 60),
        exam_late_policy=env("YGT_TRAINING_EXAM_LATE_POLICY", "count_in_time"),
        exam_window_days=_int("YGT_TRAINING_EXAM_DAYS", 7),
        makeup_window_days=_int("YGT_TRAINING_MAKEUP_DAYS", 7),
    )
