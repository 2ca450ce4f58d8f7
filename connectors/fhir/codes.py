"""Coding systems we accept and emit."""
from __future__ import annotations

LOINC = "http://loinc.org"
ICD10 = frozenset({"http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cn",
                   "urn:oid:2.16.156.10011.2.3.3.11"})
ICD10_OUT = "http://hl7.org/fhir/sid/icd-10"
ID_CARD = frozenset({"urn:oid:2.16.156.10011.1.3", "https://yigongti.dev/fhir/sid/id-card"})   # 居民身份证号码
ID_CARD_OUT = "urn:oid:2.16.156.10011.1.3"
RESIDENT_ID = "https://yigongti.dev/fhir/sid/resident"
UCUM = "http://unitsofmeasure.org"
ENCOUNTER_CLASSES = {"AMB": "outpatient", "IMP": "inpatient", "ACUTE": "inpatient", "NONAC": "inpatient",
                     "EMER": "emergency", "HH": "follow_up", "VR": "outpatient", "FLD": "public_health_visit"}
CONDITION_STATUS = {"confirmed": "confirmed", "provisional": "suspected", "differential": "suspected",
                    "unconfirmed": "suspected", "refuted": "refuted", "entered-in-error": "refuted"}
INTERPRETATION = {"L": "L", "H": "H", "LL": "LL", "HH": "HH", "N": "N", "A": "A", "AA": "A"}
