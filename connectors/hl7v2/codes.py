"""Code tables of the HL7 connector: local LIS codes to LOINC, abnormal flags (HL7 table 0078) to the record's,
patient classes (table 0004) to encounter kinds. Sites extend LOCAL_CODES (documented in docs/integration.md)."""
from __future__ import annotations

LOINC_SYSTEMS = frozenset({"LN", "LOINC", "2.16.840.1.113883.6.1"})
ICD10_SYSTEMS = frozenset({"I10", "I10C", "ICD10", "ICD-10", "ICD10CN", "ICD-10-CN", "2.16.156.10011.2.3.3.11"})

# (coding system as sent in OBX-3.3, local code) -> LOINC. An empty system matches any local system.
LOCAL_CODES: dict[tuple[str, str], str] = {
    ("", "GLU"): "1558-6",        # 空腹血糖 fasting glucose
    ("", "FBG"): "1558-6",
    ("", "HBA1C"): "4548-4",      # 糖化血红蛋白
    ("", "GHB"): "4548-4",
    ("", "CREA"): "2160-0",       # 肌酐 creatinine
    ("", "CR"): "2160-0",
    ("", "INR"): "6301-6",        # 国际标准化比值
    ("", "PT-INR"): "6301-6",
    ("", "SBP"): "8480-6",        # 收缩压
    ("", "DBP"): "8462-4",        # 舒张压
    ("", "TC"): "2093-3",         # 总胆固醇
    ("", "TG"): "2571-8",         # 甘油三酯
    ("", "LDL-C"): "13457-7",     # 低密度脂蛋白胆固醇 (calculated)
    ("", "HDL-C"): "2085-9",
}

# HL7 table 0078 → the record's flags (L H LL HH N A); flags outside the record's set are kept as None
ABNORMAL_FLAGS = {"L": "L", "H": "H", "LL": "LL", "HH": "HH", "N": "N", "A": "A", "AA": "A", "<": None, ">": None,
                  "U": "H", "D": "L", "B": None, "W": None, "S": None, "R": None, "I": None, "MS": None,
                  "VS": None, "NEG": "N", "POS": "A", "DET": "A", "ND": "N"}

# HL7 table 0004 patient class → encounter kind
PATIENT_CLASSES = {"I": "inpatient", "O": "outpatient", "E": "emergency", "P": "outpatient", "R": "outpatient",
                   "B": "outpatient"}
STORED_RESULT_STATUSES = frozenset({"F", "C", ""})     # final, corrected (empty: treated as final)


def loinc_for(code: str, system: str) -> str | None:
    """The LOINC code of an OBX-3 (code, coding system), or None when unmapped."""
    if system.upper() in LOINC_SYSTEMS:
        return code
    key = code.upper()
    return LOCAL_CODES.get((system.upper(), key)) or LOCAL_CODES.get(("", key))
