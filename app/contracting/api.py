"""/api/v1/contracts and /api/v1/contract-packages: family-doctor contracts in the caller's scope (list, detail
with ledger and payments), a staff-started contract, the outreach start over unsigned key-group residents (dry run
first), the resident's signature, a package item delivered, flagged payments, and the versioned package catalogue
(county admin edits it)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import login_required, require_roles
from app.auth.access import require_principal as current
from app.core import clock
from app.core.db import unit_of_work
from app.core.errors import NotFound
from app.org.queries import find_org
from app.residents.queries import get_resident

from . import catalogue, ledger, queries, services
from .schemas import (
    ContractCreateSchema,
    ContractDetailSchema,
    ContractListSchema,
    ContractQueryArgsSchema,
    DeliveryInSchema,
    OutreachResultSchema,
    OutreachSchema,
    PackageInSchema,
    PackageListSchema,
    PackageSchema,
    PaymentSchema,
    ResidentContractSchema,
    SignatureInSchema,
)

blp = Blueprint("contracting", __name__, url_prefix="/api/v1", description="家庭医生签约 Family-doctor contracting")
TEAM = ("village_doctor", "township_doctor", "township_public_health", "county_admin")


@blp.route("/contract-packages")
class Packages(MethodView):
    @login_required
    @blp.response(200, PackageListSchema)
    def get(self):
        """The service packages offered today (current versions), with the free 基本公卫 services."""
        return {"items": [catalogue.as_dict(p) for p in catalogue.current_packages()],
                "free_phs_services": catalogue.FREE_PHS_SERVICES, "target_groups": list(catalogue.TARGET_GROUPS)}

    @require_roles("county_admin")
    @blp.arguments(PackageInSchema)
    @blp.response(201, PackageSchema)
    def post(self, body):
        """A new version of a package (or its first). 422 free_phs_item_charged when a priced package holds a free
        基本公卫 item, 422 payer_split_mismatch when the split does not add up to the price."""
        with unit_of_work():
            row = catalogue.save(body, actor=current().username)
            return catalogue.as_dict(row)


@blp.route("/contract-packages/<string:code>/versions")
class PackageVersions(MethodView):
    @login_required
    @blp.response(200, PackageSchema(many=True))
    def get(self, code):
        """Every version of a package, newest first."""
        rows = catalogue.versions(code.upper())
        if not rows:
            raise NotFound("服务包不存在 (unknown package)", code="unknown_package", package_code=code)
        return [catalogue.as_dict(r) for r in rows]


@blp.route("/contracts")
class Contracts(MethodView):
    @phi_read("contract_list", roles=TEAM + ("supervisor",))
    @blp.arguments(ContractQueryArgsSchema, location="query")
    @blp.response(200, ContractListSchema)
    def get(self, args):
        """Contracts of the caller's organisation subtree, newest first."""
        items, total = queries.contracts(current(), status=args.get("status"), resident_id=args.get("resident_id"),
                                         q=args.get("q"), page=args["page"], per_page=args["per_page"])
        return {"items": items, "total": total}

    @require_roles("village_doctor", "township_doctor", "county_admin")
    @blp.arguments(ContractCreateSchema)
    @blp.response(201, ContractDetailSchema)
    def post(self, body):
        """Start `fd_contract` for a resident in the caller's scope (门诊签约). 409 active_contract_exists names
        the existing contract; 409 contract_in_progress when one is being signed."""
        p = current()
        if get_resident(body["resident_id"], p) is None:
            raise NotFound("居民不存在 (resident not found)", code="resident_not_found")
        team = body.get("team_org_code")
        if team:
            org = find_org(team)
            if org is None or not (p.county_wide or org.path.startswith(p.org_path or "\x00")):
                raise NotFound("机构不存在 (organization not found)", code="organization_not_found")
        row = services.request_contract(body["resident_id"], body.get("package_code"), "staff", actor=p.username,
                                        moved=body["moved"], org_code=team)
        return queries.detail(queries.get(p, row.id))


@blp.route("/residents/<int:resident_id>/contract")
class ResidentContract(MethodView):
    @phi_read("resident_contract", roles=TEAM + ("supervisor",))
    @blp.response(200, ResidentContractSchema)
    def get(self, resident_id):
        """The resident record's contract section: active contract, packages, ledger delivered/remaining, the next
        due items, a contract being signed and the last ended one. 404 outside the caller's scope."""
        if get_resident(resident_id, current()) is None:
            raise NotFound("居民不存在 (resident not found)", code="resident_not_found")
        return queries.resident_contract(resident_id)


@blp.route("/contracts/outreach")
class Outreach(MethodView):
    @require_roles("village_doctor", "township_doctor", "county_admin")
    @blp.arguments(OutreachSchema)
    @blp.response(200, OutreachResultSchema)
    def post(self, body):
        """Unsigned key-group residents (65+, HTN, T2DM) of an organisation in scope: `dry_run` (default) lists who
        would be started; otherwise one `fd_contract` (channel outreach) is started for each."""
        p = current()
        org = find_org(body.get("org_code") or p.org_code)
        if org is None or not (p.county_wide or org.path.startswith(p.org_path or "\x00")):
            raise NotFound("机构不存在 (organization not found)", code="organization_not_found")
        candidates = queries.outreach_candidates(p, org_path=org.path, limit=body["limit"])
        return services.start_outreach(p, candidates=candidates, dry_run=body["dry_run"])


@blp.route("/contracts/<int:contract_id>")
class ContractDetail(MethodView):
    @phi_read("contract", roles=TEAM + ("supervisor",))
    @blp.response(200, ContractDetailSchema)
    def get(self, contract_id):
        """One contract in scope: packages, signature, ledger (delivered / quantity), deliveries and payments."""
        return queries.detail(queries.get(current(), contract_id))


@blp.route("/contracts/<int:contract_id>/signature")
class Signature(MethodView):
    @require_roles("village_doctor", "township_doctor")
    @blp.arguments(SignatureInSchema)
    @blp.response(200, ContractDetailSchema)
    def post(self, body, contract_id):
        """The resident's signature drawn on the phone (PNG data URL) or the signed paper agreement's scan."""
        p = current()
        queries.get(p, contract_id)
        with unit_of_work():
            services.store_signature(p, contract_id, method=body["method"], image=body["image"],
                                     signer=body["signer"])
        return queries.detail(queries.get(p, contract_id))


@blp.route("/contracts/<int:contract_id>/deliveries")
class Deliveries(MethodView):
    @require_roles("village_doctor", "township_doctor", "township_public_health")
    @blp.arguments(DeliveryInSchema)
    @blp.response(201, ContractDetailSchema)
    def post(self, body, contract_id):
        """One unit of a package item delivered (exam, home visit, consult, guidance). 409 item_quantity_exhausted
        beyond the item's quantity, 409 contract_not_active, 422 delivery_outside_cycle."""
        p = current()
        row = queries.get(p, contract_id)
        with unit_of_work():
            ledger.deliver(row, body["item_id"], source="manual",
                           source_ref=f"{p.username}:{clock.now().isoformat()}", delivered_on=body["delivered_on"],
                           actor=p.username)
        return queries.detail(queries.get(p, contract_id)), 201


@blp.route("/contract-payments/flagged")
class FlaggedPayments(MethodView):
    @phi_read("contract_payments", roles=("township_doctor", "county_admin", "supervisor"))
    @blp.response(200, PaymentSchema(many=True))
    def get(self):
        """Payments recorded but not applied (an offer already void, an unknown contract number, a short amount)."""
        return queries.flagged_payments(current())
