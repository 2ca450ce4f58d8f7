"""The organisation capability catalogue (医共体能力目录): which organisation offers which capability.

Used by referral routing (R3 inputs, the refusal of a referral to an organisation without the capability) and, later,
by remote consultation (which organisation may be invited for what). Capabilities are a small fixed vocabulary."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Invalid, NotFound
from app.org.models import Organization

from .models import OrgCapability

CAPABILITIES: dict[str, str] = {
    "emergency": "急诊急救", "pci": "胸痛中心 (PCI)", "stroke": "卒中中心 (溶栓/取栓)", "cardiology": "心血管内科",
    "endocrinology": "内分泌科", "nephrology": "肾内科", "neurology": "神经内科", "obstetrics": "产科 (高危孕产妇)",
    "general_medicine": "全科/慢病管理", "rehabilitation": "康复", "insulin_management": "胰岛素起始与调整",
    "anticoagulation": "抗凝管理 (INR 监测)",
}


class CapabilityUnavailable(Invalid):
    """A referral to an organisation that does not offer what the patient needs (refused with the catalogue's
    reason)."""
    code = "capability_unavailable"


@dataclass(frozen=True)
class Offer:
    org_code: str | None
    name: str
    level: str | None
    in_county: bool
    insurance_designated: bool


def label(capability: str | None) -> str:
    return CAPABILITIES.get(capability or "", capability or "")


def providers(capability: str, *, in_county: bool | None = True, level: str | None = None) -> list[Offer]:
    """Organisations that offer `capability` now (in county: ordered county departments first)."""
    stmt = (select(OrgCapability, Organization).outerjoin(Organization, Organization.code == OrgCapability.org_code)
            .where(OrgCapability.capability == capability, OrgCapability.available.is_(True)))
    if in_county is not None:
        stmt = stmt.where(OrgCapability.in_county.is_(in_county))
    out = []
    for cap, org in session().execute(stmt.order_by(OrgCapability.id)):
        if level is not None and (org is None or org.level != level):
            continue
        out.append(Offer(cap.org_code, org.name if org else cap.hospital_name, org.level if org else None,
                         cap.in_county, cap.insurance_designated))
    return out


def township_offers(capability: str, township_code: str | None) -> bool:
    return bool(township_code) and any(o.org_code == township_code for o in providers(capability, level="township"))


def county_offers(capability: str) -> bool:
    return any(o.level in ("county", "department") for o in providers(capability))


def check(org_code: str, capability: str) -> None:
    """Raise `capability_unavailable` (with the catalogue's reason) unless `org_code` offers `capability`."""
    org = session().get(Organization, org_code)
    if org is None:
        raise NotFound("机构不存在 (organization not found)", code="organization_not_found", org_code=org_code)
    row = session().scalars(select(OrgCapability).where(OrgCapability.org_code == org_code,
                                                        OrgCapability.capability == capability)).first()
    if row is None:
        raise CapabilityUnavailable(f"{org.name}未在能力目录中登记“{label(capability)}”，不能接收此转诊",
                                    org_code=org_code, capability=capability, reason="not_in_catalogue")
    if not row.available:
        raise CapabilityUnavailable(f"{org.name}暂不提供“{label(capability)}”：{row.unavailable_reason or '暂停服务'}",
                                    org_code=org_code, capability=capability, reason=row.unavailable_reason)


def external_hospital(name: str, capability: str) -> OrgCapability:
    """An out-of-county hospital that offers `capability` and is 医保定点 (the approval form's choice)."""
    row = session().scalars(select(OrgCapability).where(
        OrgCapability.in_county.is_(False), OrgCapability.hospital_name == name,
        OrgCapability.capability == capability)).first()
    if row is None or not row.available:
        raise CapabilityUnavailable(f"县外医院“{name}”未登记“{label(capability)}”能力", hospital=name,
                                    capability=capability, reason="not_in_catalogue")
    if not row.insurance_designated:
        raise CapabilityUnavailable(f"“{name}”不是医保定点医疗机构，不能办理县外转诊备案", hospital=name,
                                    capability=capability, reason="not_insurance_designated")
    return row


def listing(*, org_code: str | None = None, capability: str | None = None) -> list[dict]:
    stmt = select(OrgCapability, Organization).outerjoin(Organization, Organization.code == OrgCapability.org_code)
    if org_code:
        stmt = stmt.where(OrgCapability.org_code == org_code)
    if capability:
        stmt = stmt.where(OrgCapability.capability == capability)
    return [{"id": cap.id, "org_code": cap.org_code, "org_name": org.name if org else cap.hospital_name,
             "org_level": org.level if org else None, "in_county": cap.in_county, "capability": cap.capability,
             "capability_label": label(cap.capability), "available": cap.available,
             "unavailable_reason": cap.unavailable_reason, "insurance_designated": cap.insurance_designated,
             "note": cap.note}
            for cap, org in session().execute(stmt.order_by(OrgCapability.in_county.desc(), OrgCapability.org_code,
                                                            OrgCapability.capability))]


def upsert(*, capability: str, org_code: str | None = None, hospital_name: str = "", available: bool = True,
           unavailable_reason: str | None = None, insurance_designated: bool = True, note: str | None = None
           ) -> OrgCapability:
    """Add or change one catalogue row (an in-county organisation, or an out-of-county hospital by name)."""
    if capability not in CAPABILITIES:
        raise Invalid(f"未知能力 {capability}", code="unknown_capability", allowed=sorted(CAPABILITIES))
    if bool(org_code) == bool(hospital_name):
        raise Invalid("须指定县内机构 (org_code) 或县外医院名称 (hospital_name) 之一", code="invalid_catalogue_row")
    if not available and not unavailable_reason:
        raise Invalid("暂停提供时须说明原因", code="reason_required", field="unavailable_reason")
    with unit_of_work() as s:
        if org_code and s.get(Organization, org_code) is None:
            raise NotFound("机构不存在 (organization not found)", code="organization_not_found", org_code=org_code)
        row = s.scalars(select(OrgCapability).where(OrgCapability.org_code.is_(org_code) if org_code is None
                                                    else OrgCapability.org_code == org_code,
                                                    OrgCapability.hospital_name == hospital_name,
                                                    OrgCapability.capability == capability)).first()
        if row is None:
            row = OrgCapability(org_code=org_code, hospital_name=hospital_name, capability=capability)
            s.add(row)
        row.in_county = bool(org_code)
        row.available, row.unavailable_reason = available, (None if available else unavailable_reason)
        row.insurance_designated, row.note, row.updated_at = insurance_designated, note, clock.now()
        s.flush()
        return row
