"""The chronic diseases the platform screens and manages: codes, Chinese names, ICD-10 ranges.

One table used by the record summary, screening, enrolment and stratification, so a disease is named the same
everywhere (the codes are stored in cases, enrolments and risk levels, and counted in reports).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Disease:
    code: str
    name: str
    icd10: str                          # default code at enrolment
    prefixes: tuple[str, ...]           # ICD-10 codes (prefix match) that mean "has this disease"


DISEASES: dict[str, Disease] = {d.code: d for d in (
    Disease("htn", "高血压", "I10", ("I10", "I11", "I12", "I13", "I15")),
    Disease("t2dm", "2型糖尿病", "E11", ("E11",)),
    Disease("copd", "慢性阻塞性肺疾病", "J44", ("J44", "J43")),
    Disease("chd", "冠心病", "I25", ("I20", "I21", "I22", "I23", "I24", "I25")),
    Disease("stroke", "脑卒中 (含高危)", "I63", ("I60", "I61", "I62", "I63", "I64", "I69", "G45")),
    Disease("ckd", "慢性肾脏病", "N18", ("N18",)),
    Disease("colorectal_cancer", "结直肠癌筛查", "Z12.1", ("C18", "C19", "C20")),
    Disease("upper_gi_cancer", "上消化道癌筛查", "Z12.0", ("C15", "C16")),
)}
AF_PREFIXES = ("I48", "I05", "I06", "I07", "I08", "I34", "I35")       # atrial fibrillation / valvular disease
RISK_LABELS = {"LOW": "低危", "MODERATE": "中危", "HIGH": "高危", "VERY_HIGH": "很高危"}
RISK_ORDER = {None: 0, "LOW": 1, "MODERATE": 2, "HIGH": 3, "VERY_HIGH": 4}


def disease_of_icd10(icd10: str) -> str | None:
    """The platform disease an ICD-10 code belongs to, if any."""
    code = icd10.upper()
    return next((d.code for d in DISEASES.values() if code.startswith(d.prefixes)), None)


def name_of(disease: str) -> str:
    return DISEASES[disease].name if disease in DISEASES else disease
