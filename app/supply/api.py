"""/api/v1/supply: stock by store with its reorder policy, movements, UDI scanning on a patient case, alerts,
recalls (who received a lot), the drug-shortage register, replenishments owed to the SPD and indicators."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current
from app.auth.access import require_roles

from . import queries, services, udi
from .errors import MovementInvalid
from .schemas import (
    SupplyAlertSchema,
    SupplyIndicatorsSchema,
    SupplyMovementCreateSchema,
    SupplyMovementSchema,
    SupplyRecallCreateSchema,
    SupplyRecallSchema,
    SupplyRecallSearchArgsSchema,
    SupplyRecallSearchSchema,
    SupplyReplenishmentSchema,
    SupplyShortageCreateSchema,
    SupplyShortageSchema,
    SupplyStoreSchema,
    SupplyStoreStockSchema,
    SupplyUdiCheckSchema,
    SupplyUdiScanSchema,
    SupplyUdiUseCreateSchema,
    SupplyUdiUseSchema,
)

blp = Blueprint("supply", __name__, url_prefix="/api/v1/supply", description="库存与耗材 Stock and consumables")

READERS = ("pharmacist", "county_admin", "supervisor", "county_specialist", "township_doctor")
KEEPERS = ("pharmacist", "county_admin")
SCANNERS = ("county_specialist", "pharmacist", "township_doctor")


@blp.route("/stores")
class Stores(MethodView):
    @require_roles(*READERS)
    @blp.response(200, SupplyStoreSchema(many=True))
    def get(self):
        """The stores in the caller's scope (一级库 first)."""
        return [queries.store_view(st) for st in queries.visible_stores(current())]


@blp.route("/stores/<code>/stock")
class StoreStock(MethodView):
    @require_roles(*READERS)
    @blp.response(200, SupplyStoreStockSchema)
    def get(self, code):
        """What one store holds: per item the quantities, lots, and reorder policy (ROP, safety stock, MAX)."""
        st = services.scoped_store(current(), code)
        return {"store": queries.store_view(st), "items": queries.stock(st)}


@blp.route("/stores/<code>/movements")
class Movements(MethodView):
    @require_roles(*KEEPERS)
    @blp.arguments(SupplyMovementCreateSchema)
    @blp.response(201, SupplyMovementSchema(many=True))
    def post(self, data, code):
        """Record a movement: receipt, return, issue, use (on a patient), return_supplier or transfer."""
        return services.record_movement(current(), code, **data)


@blp.route("/udi/check")
class UdiCheck(MethodView):
    @require_roles(*SCANNERS)
    @blp.arguments(SupplyUdiScanSchema)
    @blp.response(200, SupplyUdiCheckSchema)
    def post(self, data):
        """Read a scanned UDI and say whether it may be used (nothing is recorded)."""
        store_code = data.get("store_code")
        if store_code:
            services.scoped_store(current(), store_code)
        return services.check_udi(data["code"], store_code=store_code)


@blp.route("/udi/uses")
class UdiUses(MethodView):
    @require_roles(*SCANNERS)
    @blp.arguments(SupplyUdiUseCreateSchema)
    @blp.response(201, SupplyUdiUseSchema)
    def post(self, data):
        """Use one scanned item on a patient case: refused with the reason (check digit, expired, recalled, serial
        already used, no stock of that lot)."""
        return services.scan_for_patient(current(), data["code"], store_code=data["store_code"],
                                         resident_id=data["resident_id"], case_ref=data["case_ref"])


@blp.route("/alerts")
class Alerts(MethodView):
    @require_roles(*READERS)
    @blp.response(200, SupplyAlertSchema(many=True))
    def get(self):
        """Open stock alerts of the caller's stores: below reorder point / safety stock, near expiry, recalled."""
        return queries.alerts(current())


@blp.route("/recalls")
class Recalls(MethodView):
    @require_roles(*READERS)
    @blp.response(200, SupplyRecallSchema(many=True))
    def get(self):
        """Registered recalls, newest first."""
        return queries.recalls()

    @require_roles(*KEEPERS)
    @blp.arguments(SupplyRecallCreateSchema)
    @blp.response(201, SupplyRecallSchema)
    def post(self, data):
        """Register a recall of a product lot (UDI-DI + lot): further scans are refused, holding stores alerted."""
        row = services.record_recall(data["gtin"], lot_no=data["lot"], reason=data["reason"], source=data["source"],
                                     issued_on=data["issued_on"], level=data["level"], recorded_by=current().username)
        return queries.recall_view(row)


@blp.route("/recall-search")
class RecallSearch(MethodView):
    @phi_read("udi_recall")
    @blp.arguments(SupplyRecallSearchArgsSchema, location="query")
    @blp.response(200, SupplyRecallSearchSchema)
    def get(self, args):
        """Which patients received items of a product lot (scan the UDI or give GTIN + lot), and where it is held."""
        gtin, lot = args.get("gtin"), args.get("lot", "")
        if args.get("code"):
            parsed = udi.parse(args["code"])
            gtin, lot = parsed.gtin, parsed.lot or lot
        if not gtin:
            raise MovementInvalid("请扫描 UDI 或输入产品标识 GTIN", code="gtin_required")
        return queries.recall_search(gtin.zfill(14), lot, principal=current())


@blp.route("/shortages")
class Shortages(MethodView):
    @require_roles(*READERS)
    @blp.response(200, SupplyShortageSchema(many=True))
    def get(self):
        """The drug-shortage register (短缺药品登记): active entries."""
        return queries.shortages()

    @require_roles(*KEEPERS)
    @blp.arguments(SupplyShortageCreateSchema)
    @blp.response(201, SupplyShortageSchema)
    def post(self, data):
        """Report a shortage of an item at an organisation (default: the caller's)."""
        principal = current()
        row = services.report_shortage(data["item_code"], org_code=data.get("org_code") or principal.org_code,
                                       reason=data["reason"], alternative=data["alternative"],
                                       expected_on=data.get("expected_on"), reported_by=principal.username)
        return next(s for s in queries.shortages() if s["id"] == row.id)


@blp.route("/shortages/<int:shortage_id>/resolve")
class ShortageResolve(MethodView):
    @require_roles(*KEEPERS)
    @blp.response(200, SupplyShortageSchema)
    def post(self, shortage_id):
        """Mark a shortage resolved (supply restored)."""
        row = services.resolve_shortage(shortage_id)
        return next(s for s in queries.shortages(active_only=False) if s["id"] == row.id)


@blp.route("/replenishments")
class Replenishments(MethodView):
    @require_roles(*READERS)
    @blp.response(200, SupplyReplenishmentSchema(many=True))
    def get(self):
        """Open replenishment requests owed to / awaited from the SPD for the caller's stores."""
        return queries.replenishment_views(current())


@blp.route("/indicators")
class Indicators(MethodView):
    @require_roles(*READERS)
    @blp.response(200, SupplyIndicatorsSchema)
    def get(self):
        """缺货率 (stock-out store-item-days), near-expiry value, open alerts by kind, UDI uses (last 90 days)."""
        return queries.indicators(current())
