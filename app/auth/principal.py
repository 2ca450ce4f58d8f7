"""Who is calling: the `Principal` every service receives (never a Flask request object)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import g

from app.vocabulary import Role

ROLES = Role.codes()
# trainer and education_head (科教科负责人) are not county-wide: a sub-centre's trainer works for its own subtree,
# and the head hospital's, sitting at the root, sees every organization through its path
COUNTY_WIDE_ROLES = frozenset({"county_specialist", "county_admin", "supervisor", "process_owner", "pharmacist",
                               "integration"})

# Least privilege: roles that treat patients (or are the patient, or a machine feeding the record) read personal
# health data; `trainer` and `process_owner` design processes and teach, a `researcher` sees only cohort sizes and
# committee-approved de-identified extracts — they read none (docs/security.md, docs/processes/research.md).
NON_TREATING_ROLES = frozenset({"trainer", "process_owner", "researcher"})

# Integration clients sign in as users named `cli_…` (app.auth.services.create_client): an instance they start has no
# person as its starter, so its laneless tasks are offered by organization instead (issue 14.11, docs/inbox.md).
CLIENT_ID_PREFIX = "cli_"


def is_client_name(username: str | None) -> bool:
    return username is not None and username.startswith(CLIENT_ID_PREFIX)


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    roles: frozenset[str]
    org_code: str
    display_name: str = ""
    org_path: str = ""                      # materialized path of the user's organization, e.g. "/C001/T03/"
    resident_id: int | None = None          # set for patients: the only record they may see
    token_id: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def county_wide(self) -> bool:
        return bool(self.roles & COUNTY_WIDE_ROLES)


SYSTEM = Principal(user_id=0, username="system", roles=frozenset({"county_admin"}), org_code="", display_name="系统")


def current_principal() -> Principal | None:
    return getattr(g, "principal", None)


def set_principal(principal: Principal | None) -> None:
    g.principal = principal


def reads_phi(principal: Principal | None) -> bool:
    """Whether the principal holds a role that may see personal health data at all."""
    return principal is not None and bool(principal.roles - NON_TREATING_ROLES)
