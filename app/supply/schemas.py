"""Request/response shapes of /api/v1/supply."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class SupplyStoreSchema(Schema):
    code = fields.Str(required=True)
    name = fields.Str(required=True)
    org_code = fields.Str(required=True)
    level = fields.Str(required=True, metadata={"description": "primary (一级库) | secondary (二级库)"})
    level_label = fields.Str(required=True)
    parent_code = fields.Str(allow_none=True)


class SupplyItemSchema(Schema):
    code = fields.Str(required=True)
    name = fields.Str(required=True)
    kind = fields.Str(required=True, metadata={"description": "drug | consumable"})
    kind_label = fields.Str(required=True)
    unit = fields.Str(required=True)
    gtin = fields.Str(allow_none=True, metadata={"description": "UDI-DI (GTIN-14)"})
    high_value = fields.Bool(required=True)
    supervised = fields.Bool(required=True)
    rescue = fields.Bool(required=True)
    unit_price_fen = fields.Int(required=True)
    category = fields.Str(required=True)


class SupplyPolicySchema(Schema):
    mean_daily = fields.Float(required=True)
    sd_daily = fields.Float(required=True)
    lead_days = fields.Int(required=True)
    z = fields.Float(required=True)
    review_days = fields.Int(required=True)
    safety_stock = fields.Int(required=True)
    reorder_point = fields.Int(required=True)
    max_stock = fields.Int(required=True)
    on_hand = fields.Int(required=True)
    usable = fields.Int(required=True)
    reserved = fields.Int(required=True)
    on_order = fields.Int(required=True)
    available = fields.Int(required=True)
    days_of_supply = fields.Float(allow_none=True)
    observed_days = fields.Int(required=True)
    stockout_days = fields.Int(required=True)


class SupplyLotSchema(Schema):
    lot_no = fields.Str(required=True)
    expiry_on = fields.Str(allow_none=True)
    on_hand = fields.Int(required=True)
    reserved = fields.Int(required=True, metadata={"description": "held for booked cases (耗材预留)"})
    available = fields.Int(required=True, metadata={"description": "on hand − reserved"})
    consignment = fields.Bool(required=True)
    supplier = fields.Str(required=True)


class SupplyReservationSchema(Schema):
    case_ref = fields.Str(required=True, metadata={"description": "the case it is held for (介入病例号)"})
    lot_no = fields.Str(required=True)
    quantity = fields.Int(required=True, metadata={"description": "units still held"})
    reserved_at = fields.Str(required=True)


class SupplyStockLineSchema(Schema):
    item = fields.Nested(SupplyItemSchema, required=True)
    policy = fields.Nested(SupplyPolicySchema, required=True)
    status = fields.Str(required=True, metadata={"description": "ok | low (≤ ROP) | critical (≤ safety stock)"})
    lots = fields.List(fields.Nested(SupplyLotSchema), required=True)
    reservations = fields.List(fields.Nested(SupplyReservationSchema), required=True)


class SupplyStoreStockSchema(Schema):
    store = fields.Nested(SupplyStoreSchema, required=True)
    items = fields.List(fields.Nested(SupplyStockLineSchema), required=True)


class SupplyMovementCreateSchema(Schema):
    kind = fields.Str(required=True, validate=validate.OneOf(["receipt", "return", "issue", "use", "return_supplier",
                                                              "transfer"]))
    item_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    quantity = fields.Int(required=True, validate=validate.Range(min=1, max=1_000_000))
    lot_no = fields.Str(validate=validate.Length(max=40))
    expiry_on = fields.Date(allow_none=True)
    consignment = fields.Bool(load_default=False)
    supplier = fields.Str(load_default="", validate=validate.Length(max=120))
    counterpart = fields.Str(validate=validate.Length(max=120), metadata={"description": "ward or receiver"})
    to_store_code = fields.Str(validate=validate.Length(max=40), metadata={"description": "transfer target"})
    resident_id = fields.Int(validate=validate.Range(min=1, max=2**53))
    case_ref = fields.Str(validate=validate.Length(max=80))
    client_id = fields.UUID(metadata={"description": "client-generated id: a repeat acts once"})
    note = fields.Str(load_default="", validate=validate.Length(max=500))


class SupplyMovementSchema(Schema):
    id = fields.Int(required=True)
    kind = fields.Str(required=True)
    quantity = fields.Int(required=True)
    delta = fields.Int(required=True)
    lot_id = fields.Int(required=True)
    consignment = fields.Bool(required=True)
    at = fields.DateTime(required=True)


class SupplyUdiScanSchema(Schema):
    code = fields.Str(required=True, validate=validate.Length(min=1, max=300),
                      metadata={"description": "the scanned GS1 element string (FNC1 = \\u001d) or (01)…(17)… text"})
    store_code = fields.Str(validate=validate.Length(max=40))


class SupplyUdiUseCreateSchema(SupplyUdiScanSchema):
    store_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    resident_id = fields.Int(required=True, validate=validate.Range(min=1, max=2**53))
    case_ref = fields.Str(required=True, validate=validate.Length(min=1, max=80))


class SupplyUsedItemSchema(Schema):
    code = fields.Str(required=True)
    name = fields.Str(required=True)
    kind = fields.Str(required=True)
    unit = fields.Str(required=True)
    gtin = fields.Str(allow_none=True)
    high_value = fields.Bool(required=True)
    unit_price_fen = fields.Int(required=True)
    insurance_code = fields.Str(allow_none=True)


class SupplyRefusalSchema(Schema):
    code = fields.Str(required=True)
    message = fields.Str(required=True)


class SupplyUdiCheckSchema(Schema):
    gtin = fields.Str(required=True)
    lot = fields.Str(allow_none=True)
    serial = fields.Str(allow_none=True)
    expiry_on = fields.Str(allow_none=True)
    produced_on = fields.Str(allow_none=True)
    item = fields.Nested(SupplyUsedItemSchema, allow_none=True)
    refusal = fields.Nested(SupplyRefusalSchema, allow_none=True)


class SupplyUdiUseSchema(Schema):
    use_id = fields.Int(required=True)
    movement_id = fields.Int(required=True)
    gtin = fields.Str(required=True)
    lot = fields.Str(allow_none=True)
    serial = fields.Str(allow_none=True)
    expiry_on = fields.Str(allow_none=True)
    case_ref = fields.Str(required=True)
    resident_id = fields.Int(required=True)
    used_by = fields.Str(required=True)
    used_at = fields.Str(required=True)
    item = fields.Nested(SupplyUsedItemSchema, required=True)


class SupplyAlertSchema(Schema):
    id = fields.Int(required=True)
    kind = fields.Str(required=True, metadata={"description": "below_rop | below_safety | near_expiry | "
                                                              "recalled_stock"})
    kind_label = fields.Str(required=True)
    store_code = fields.Str(required=True)
    store_name = fields.Str(required=True)
    item_name = fields.Str(allow_none=True)
    details = fields.Dict(required=True)
    raised_at = fields.Str(required=True)


class SupplyRecallSchema(Schema):
    id = fields.Int(required=True)
    gtin = fields.Str(required=True)
    lot = fields.Str(required=True)
    level = fields.Str(required=True)
    reason = fields.Str(required=True)
    source = fields.Str(required=True)
    issued_on = fields.Str(required=True)


class SupplyRecallCreateSchema(Schema):
    gtin = fields.Str(required=True, validate=validate.Regexp(r"^[0-9]{8,14}$"))
    lot = fields.Str(load_default="", validate=validate.Length(max=40))
    level = fields.Str(load_default="II", validate=validate.OneOf(["I", "II", "III"]))
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=1000))
    source = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    issued_on = fields.Date(required=True)


class SupplyRecallSearchArgsSchema(Schema):
    code = fields.Str(validate=validate.Length(max=300), metadata={"description": "a scanned UDI (DI + lot read)"})
    gtin = fields.Str(validate=validate.Regexp(r"^[0-9]{8,14}$"))
    lot = fields.Str(load_default="", validate=validate.Length(max=40))


class SupplyRecallUseSchema(Schema):
    resident_id = fields.Int(required=True)
    resident_name = fields.Str(required=True)
    case_ref = fields.Str(required=True)
    serial = fields.Str(allow_none=True)
    lot = fields.Str(allow_none=True)
    used_at = fields.Str(required=True)
    used_by = fields.Str(required=True)


class SupplyRecallStockSchema(Schema):
    store_code = fields.Str(required=True)
    store_name = fields.Str(required=True)
    lot = fields.Str(required=True)
    on_hand = fields.Int(required=True)


class SupplyRecallSearchSchema(Schema):
    gtin = fields.Str(required=True)
    lot = fields.Str(required=True)
    item = fields.Nested(SupplyItemSchema, allow_none=True)
    uses = fields.List(fields.Nested(SupplyRecallUseSchema), required=True)
    hidden_uses = fields.Int(required=True, metadata={"description": "patients outside the caller's scope"})
    in_stock = fields.List(fields.Nested(SupplyRecallStockSchema), required=True)
    recall = fields.Nested(SupplyRecallSchema, allow_none=True)


class SupplyShortageSchema(Schema):
    id = fields.Int(required=True)
    item = fields.Nested(SupplyItemSchema, required=True)
    org_code = fields.Str(required=True)
    status = fields.Str(required=True)
    reason = fields.Str(required=True)
    alternative = fields.Str(required=True)
    reported_on = fields.Str(required=True)
    expected_on = fields.Str(allow_none=True)


class SupplyShortageCreateSchema(Schema):
    item_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    org_code = fields.Str(validate=validate.Length(max=40))
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=1000))
    alternative = fields.Str(load_default="", validate=validate.Length(max=1000))
    expected_on = fields.Date(allow_none=True)


class SupplyReplenishmentSchema(Schema):
    request_no = fields.Str(required=True)
    store_code = fields.Str(required=True)
    store_name = fields.Str(required=True)
    item_name = fields.Str(required=True)
    unit = fields.Str(required=True)
    quantity = fields.Int(required=True)
    reason = fields.Str(required=True)
    requested_at = fields.Str(required=True)


class SupplyIndicatorsSchema(Schema):
    stockout_days = fields.Int(required=True)
    store_item_days = fields.Int(required=True)
    stockout_rate = fields.Float(allow_none=True, metadata={"description": "缺货率: store-item-days closing empty ÷ "
                                                                          "store-item-days (90 days)"})
    near_expiry_value_fen = fields.Int(required=True)
    open_alerts = fields.Dict(keys=fields.Str(), values=fields.Int(), required=True)
    udi_uses = fields.Int(required=True)
