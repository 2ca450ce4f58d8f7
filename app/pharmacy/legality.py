"""R6a `rx_legality` (wave2 §3.4), the first step of the pre-review (合法性 → 规范性 → 适宜性): what the decision table
judges is gathered here from real data — the prescriber's 处方权 from the staff directory
(`users.prescribing_privilege`, the user's organisation), enrolment in chronic-disease management (建档,
`disease_enrolments`) — and from what the HIS sent (signature, date issued, validity, supply days, long-term flag);
the table itself runs as the business-rule task of `rx_prereview`.

And the per-organisation auto-pass switch per drug class (default off): `auto_pass_allowed(org, drugs)`.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app.audit.services import record
from app.auth.models import User
from app.auth.queries import users_by_username
from app.auth.services import PRESCRIBING_ROLES
from app.core import clock
from app.core.db import session
from app.org.models import Organization
from app.org.queries import ancestors
from app.residents.management import enrolled_diseases

from .models import AutoPassSetting

DECISION = "rx_legality"
# drug → the class the auto-pass switch is set for (wave2 §3.1 step 4: the three supervised drugs)
DRUG_CLASS = {"warfarin": "warfarin", "rivaroxaban": "rivaroxaban", "enoxaparin": "lmwh", "nadroparin": "lmwh"}
CLASS_LABELS = {"warfarin": "华法林", "rivaroxaban": "利伐沙班", "lmwh": "低分子肝素（依诺肝素、那屈肝素）"}


def find_prescriber(code: str | None, name: str, org: Organization) -> User | None:
    """The staff member who signed: by the code the HIS sent (the platform username = 工号), else the one active
    member of the prescribing organisation (or the hospital a department belongs to) with that display name."""
    if code:
        return users_by_username([code]).get(code)
    homes = [org.code] + ([org.parent_code] if org.level == "department" and org.parent_code else [])
    found = list(session().scalars(select(User).where(User.display_name == name, User.org_code.in_(homes),
                                                      User.active.is_(True)).limit(2)))
    return found[0] if len(found) == 1 else None


def privilege(user: User | None, org: Organization) -> str:
    """GRANTED, NO_PRIVILEGE (not granted, withdrawn, inactive or not a prescribing role), OTHER_ORG (registered at
    another organisation: 处方权 is per organisation) or UNKNOWN (no such staff member)."""
    if user is None:
        return "UNKNOWN"
    if not (user.active and user.prescribing_privilege and set(PRESCRIBING_ROLES) & set(user.role_codes)):
        return "NO_PRIVILEGE"
    at_org = user.org_code == org.code or (org.level == "department" and org.parent_code == user.org_code)
    return "GRANTED" if at_org else "OTHER_ORG"


def sent(payload: dict[str, Any]) -> dict[str, Any]:
    """What the HIS sent that R6a judges, kept on the prescription."""
    signature = payload.get("signature") or {}
    return {"prescriber_code": payload.get("prescriber_code"),
            "signed": bool(signature.get("cert_sn")), "signature": signature or None,
            "issued_on": payload.get("issued_on") or clock.today().isoformat(),
            "valid_days": int(payload.get("valid_days") or 1), "long_term": bool(payload.get("long_term"))}


def facts(*, legality: dict[str, Any], prescriber: str, org: Organization, resident_id: int, setting: str,
          diagnosis: str, items: list[dict[str, Any]], stable: bool) -> dict[str, Any]:
    """The inputs of `rx_legality` for one version, and who the prescriber was found to be."""
    user = find_prescriber(legality.get("prescriber_code"), prescriber, org)
    return {"prescriber_privilege": privilege(user, org), "prescriber_user": user.username if user else None,
            "signed": bool(legality.get("signed")), "diagnosis_present": bool((diagnosis or "").strip()),
            "valid_days": int(legality.get("valid_days") or 1),
            "days_since_issued": (clock.today() - date.fromisoformat(legality["issued_on"])).days,
            "setting": setting, "supply_days": max([int(line.get("days") or 0) for line in items] or [0]),
            "long_term": bool(legality.get("long_term")),
            "enrolled_stable": stable and bool(enrolled_diseases(resident_id))}


def findings(codes: list[str] | None, grades: list[str] | None, messages: list[str] | None,
             version: int | None) -> list[dict[str, Any]]:
    """The table's collected rows as findings shaped like the appropriateness ones."""
    return [{"code": f"legality_{code.lower()}", "grade": grade, "message": message, "drug": None,
             "rule": DECISION, "rule_version": version, "reason": "合法性审核 (R6a)"}
            for code, grade, message in zip(codes or [], grades or [], messages or [], strict=False)]


def drug_classes(items: list[dict[str, Any]]) -> list[str]:
    return sorted({DRUG_CLASS[line["drug"]] for line in items if line.get("drug") in DRUG_CLASS})


def setting_for(org_code: str, drug_class: str) -> AutoPassSetting | None:
    """The closest setting for this class: the organisation's own, else its parent's, … up to the root."""
    chain = [o.code for o in ancestors(org_code, include_self=True)]
    rows = {r.org_code: r for r in session().scalars(select(AutoPassSetting).where(
        AutoPassSetting.org_code.in_(chain), AutoPassSetting.drug_class == drug_class))}
    return next((rows[c] for c in reversed(chain) if c in rows), None)


def auto_pass_allowed(org_code: str, items: list[dict[str, Any]]) -> bool:
    """Auto-pass only when every supervised drug class on the prescription is switched on for the organisation."""
    classes = drug_classes(items)
    return bool(classes) and all((row := setting_for(org_code, c)) is not None and row.enabled for c in classes)


def settings_view(org: Organization) -> list[dict[str, Any]]:
    """The switch for each drug class as it applies at this organisation: its own setting, or the one inherited
    from the closest organisation above it that has one, or the default (off)."""
    out = []
    for drug_class, label in CLASS_LABELS.items():
        row = setting_for(org.code, drug_class)
        out.append({"org_code": org.code, "drug_class": drug_class, "class_label": label,
                    "enabled": bool(row and row.enabled), "source": "default" if row is None
                    else ("own" if row.org_code == org.code else "inherited"),
                    "from_org_code": row.org_code if row else None, "updated_by": row.updated_by if row else None,
                    "updated_at": row.updated_at if row else None})
    return out


def set_auto_pass(org: Organization, drug_class: str, enabled: bool, *, actor: str) -> AutoPassSetting:
    """Switch auto-pass for one drug class at one organisation (and below it, unless a closer one says otherwise)."""
    row = session().scalars(select(AutoPassSetting).where(AutoPassSetting.org_code == org.code,
                                                          AutoPassSetting.drug_class == drug_class)).first()
    before = bool(row and row.enabled)
    if row is None:
        row = AutoPassSetting(org_code=org.code, drug_class=drug_class, enabled=enabled, updated_by=actor,
                              updated_at=clock.now())
        session().add(row)
    row.enabled, row.updated_by, row.updated_at = enabled, actor, clock.now()
    record("rx.auto_pass", object_type="organization", object_id=org.code,
           details={"drug_class": drug_class, "enabled": enabled, "before": before})
    return row
