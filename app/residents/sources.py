"""Where a value came from, and which values may grade, screen or classify.

A reading the resident took at home (`patient`, typed in by the resident or their village doctor on their behalf) or
that a home device's vendor cloud sent (`vendor:<name>`, `home:<kind>`) is shown on the record, labelled, but never
feeds a clinical decision: the guideline thresholds (140/90 office BP, fasting glucose in the clinic) are for
measurements taken by staff. Every reader that grades, screens or classifies filters with `clinical()` (SQLAlchemy)
or `CLINICAL_SQL` (text queries).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_

PATIENT = "patient"
HOME_PREFIXES = ("home:", "vendor:")

CLINICAL_SQL = "(source <> 'patient' AND source NOT LIKE 'home:%' AND source NOT LIKE 'vendor:%')"


def is_home(source: str | None) -> bool:
    """True for a value the resident measured outside the clinic."""
    return source == PATIENT or (source or "").startswith(HOME_PREFIXES)


def clinical(column) -> ColumnElement[bool]:
    """A filter keeping values measured by staff (clinic, hospital, exams, public-health visits)."""
    return and_(column != PATIENT, *(column.notlike(f"{prefix}%") for prefix in HOME_PREFIXES))


def label(source: str | None) -> str:
    """How the record names a value's origin: 患者自测 / 家用设备 / 诊室 and system sources as they are."""
    if source == PATIENT:
        return "患者自测"
    if (source or "").startswith(HOME_PREFIXES):
        return "家用设备"
    return "医疗机构"
