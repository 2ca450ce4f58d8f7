"""What the pre-operative assessment reads from the patient's record: anticoagulant/antiplatelet status and the
inputs of the eGFR decision (sex, age, latest serum creatinine). Anticoagulation comes from the patient's active
anticoagulant episodes (app.anticoag: drug, indication, INR target, phase) and the active medications of ATC group
B01 in the drug catalogue (antiplatelets and anticoagulants started elsewhere), with the latest INR."""
from __future__ import annotations

from datetime import date
from typing import Any

from app.anticoag import services as anticoag
from app.auth.principal import SYSTEM
from app.core import clock
from app.residents import queries as residents
from app.residents import record_queries
from app.vocabulary import drugs

INR, SCR = "6301-6", "2160-0"


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def anticoagulation(resident_id: int) -> dict[str, Any]:
    """Active anticoagulants and antiplatelets (catalogue ATC B01) with the latest INR."""
    meds = [m for m in record_queries.health_record(resident_id, recent=0)["medications"] if m["status"] == "active"]
    found = []
    for m in meds:
        entry = drugs.find(m["drug"])
        if entry and entry["atc"].startswith("B01"):
            found.append({"drug": m["drug"], "name": entry["name_zh"], "drug_class": entry["drug_class"],
                          "dose": m.get("dose") or "", "started_on": m.get("started_on")})
    seen = {d["drug"] for d in found}
    episodes = []
    for e in anticoag.active_episodes(resident_id):
        episodes.append({"drug": e.drug, "name": anticoag.drug_name(e.drug), "indication": e.indication,
                         "target_lo": e.target_lo, "target_hi": e.target_hi, "phase": e.phase})
        if e.drug not in seen:
            found.append({"drug": e.drug, "name": anticoag.drug_name(e.drug), "drug_class": "ANTICOAGULANT",
                          "dose": f"{e.dose_mg:g} mg" if e.dose_mg else "", "started_on": None})
            seen.add(e.drug)
    latest = record_queries.latest_values(resident_id, (INR,))
    inr = latest.get(INR)
    return {"on_anticoagulant": any(d["drug_class"] == "ANTICOAGULANT" for d in found),
            "on_antiplatelet": any(d["drug_class"] == "ANTIPLATELET" for d in found),
            "drugs": found, "episodes": episodes, "last_inr": inr[0] if inr else None,
            "last_inr_at": clock.local(inr[1]).date().isoformat() if inr else None}


def renal_inputs(resident_id: int, scr_umol_l: float | None) -> dict[str, Any]:
    """sex, age and serum creatinine for the eGFR decision (the form's value wins over the record's latest)."""
    r = residents.get_resident(resident_id, SYSTEM)
    if r is None:
        return {"sex": None, "age": None, "scr_umol_l": scr_umol_l}
    if scr_umol_l is None:
        latest = record_queries.latest_values(resident_id, (SCR,)).get(SCR)
        scr_umol_l = float(latest[0]) if latest and latest[0] is not None else None
    return {"sex": r.sex, "age": _age(r.birth_date, clock.today()), "scr_umol_l": scr_umol_l}
