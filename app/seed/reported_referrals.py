"""Demo 转诊对账 (issue 20.6): referrals and transfers the HIS, the public-health platform and the insurance platform
report, some of them the network's own referrals of the referral seed (same resident, direction and day: matched),
some not (an out-of-county transfer the insurance settled, a provincial hospital's down-referral public health
knows of). Recorded through the same service as the `referral_reported` webhook; idempotent on each source id. One
more comes from the county hospital's HIS as an HL7 v2 REF^I12 through the HL7 connector, so it is also a delivery
on the integration screen (集成监控, channel hl7v2)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core import clock
from app.core.crypto import decrypt_field
from app.core.db import session
from app.referral import reported
from app.referral.models import Referral
from app.residents.models import Resident
from connectors.hl7v2 import inbound as hl7_inbound


def _matching(rows: list[Referral]) -> list[tuple[int, dict]]:
    """HIS reports of the network's first up-referrals, insurance settlements of two of them, public health's
    report of a down-referral."""
    out: list[tuple[int, dict]] = []
    ups = [r for r in rows if r.direction == "up" and not r.out_of_county][:3]
    for n, r in enumerate(ups):
        end = {"to_org_code": r.to_org_code} if r.to_org_code else {"to_hospital": r.external_hospital or "县人民医院"}
        base = {"direction": "up", "referred_on": clock.date_of(r.requested_at).isoformat(),
                "from_org_code": r.from_org_code or "C01T01V01", **end, "diagnosis_code": "I10", "diagnosis": "高血压"}
        out.append((r.resident_id, {**base, "source": "his", "source_id": f"HIS-ZZ{r.id:06d}"}))
        if n < 2:
            out.append((r.resident_id, {**base, "source": "insurance", "source_id": f"YB-ZZ{r.id:06d}",
                                        "total_cost_fen": 386_500 + 120_000 * n, "insurance_paid_fen": 251_200 + 80_000 * n}))
    downs = [r for r in rows if r.direction == "down"][:1]
    for r in downs:
        out.append((r.resident_id, {"source": "public_health", "source_id": f"GW-XZ{r.id:06d}", "direction": "down",
                                    "referred_on": clock.date_of(r.requested_at).isoformat(),
                                    "from_org_code": r.from_org_code or "C01", "to_org_code": r.to_org_code or "C01T01V01"}))
    return out


def _unmatched(people: list[Resident]) -> list[tuple[int, dict]]:
    today = clock.today()
    a, b, c = people[:3]
    return [
        (a.id, {"source": "insurance", "source_id": "YB-ZY-90001", "direction": "up", "kind": "transfer",
                "referred_on": (today - timedelta(days=12)).isoformat(), "from_org_code": "C01",
                "to_hospital": "省人民医院", "diagnosis_code": "I63.9", "diagnosis": "脑梗死",
                "total_cost_fen": 4_865_000, "insurance_paid_fen": 3_120_000}),
        (b.id, {"source": "public_health", "source_id": "GW-XZ-90002", "direction": "down",
                "referred_on": (today - timedelta(days=9)).isoformat(), "from_hospital": "省人民医院",
                "to_org_code": b.org_code, "diagnosis_code": "I21.9", "diagnosis": "急性心肌梗死（PCI 术后）"}),
        (c.id, {"source": "his", "source_id": "HIS-ZZ-90003", "direction": "up",
                "referred_on": (today - timedelta(days=20)).isoformat(), "from_org_code": c.org_code,
                "to_org_code": "C01", "diagnosis_code": "E11.9", "diagnosis": "2型糖尿病"}),
    ]


def _ref_i12(person: Resident) -> bytes:
    """The county hospital HIS's REF^I12: a village's up-referral to the county hospital (docs/integration.md)."""
    on = (clock.today() - timedelta(days=5)).strftime("%Y%m%d")
    birth = person.birth_date.strftime("%Y%m%d")
    return "\r".join([
        f"MSH|^~\\&|HIS|C01|YGT|YGT|{on}093000||REF^I12^REF_I12|DEMO-REF-0001|P|2.4|||||CHN|UNICODE UTF-8",
        f"RF1|A|R|MED||O|HIS-REF-20001|{on}",
        f"PRD|RP|||^^^{person.org_code}",
        "PRD|RT|||^^^C01",
        f"PID|1||{decrypt_field(person.id_number_encrypted)}^^^CHN^NNCHN||{person.name}||{birth}|{person.sex}",
        "DG1|1||I10^原发性高血压^I10"]).encode()


def seed_reported_referrals() -> dict[str, int]:
    rows = list(session().scalars(select(Referral).order_by(Referral.id)))
    people = list(session().scalars(select(Resident).where(Resident.org_code == "C01T01V02")
                                    .order_by(Resident.id).limit(4)))
    if not rows or len(people) < 4:
        return {}
    added = 0
    for resident_id, payload in _matching(rows) + _unmatched(people):
        added += reported.record_reported(payload, resident_id=resident_id, client_id="demo")["first"]
    outcome = hl7_inbound.receive(_ref_i12(people[3]), client_id="demo-his")
    added += bool(outcome.status == "processed" and (outcome.result or {}).get("first"))
    return {"reported_referrals": added} if added else {}
