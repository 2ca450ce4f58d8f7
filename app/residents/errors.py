"""Typed errors of the resident registry."""
from __future__ import annotations

from app.core.errors import Conflict, Invalid


class InvalidIdNumber(Invalid):
    code = "invalid_id_number"


class DuplicateResident(Conflict):
    code = "duplicate_resident"


class InvalidManagingOrg(Invalid):
    code = "invalid_org_code"
