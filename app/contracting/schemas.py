"""Marshmallow schemas of /api/v1/contracts and /api/v1/contract-packages."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.core.paging import PageArgsSchema, per_page

from .catalogue import KINDS, LEVELS, PERIODS, TARGET_GROUPS
from .services import CHANNEL_LABELS, SIGNATURE_METHODS, STATUS_LABELS

ID = validate.Range(min=1, max=2**63 - 1)
FEN = validate.Range(min=0, max=10_000_000)


class PayerSplitSchema(Schema):
    insurance = fields.Int(required=True, validate=FEN)
    public_health = fields.Int(required=True, validate=FEN)
    self = fields.Int(required=True, validate=FEN, data_key="self")


class PackageItemInSchema(Schema):
    service_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    name = fields.Str(validate=validate.Length(max=80))
    kind = fields.Str(required=True, validate=validate.OneOf(tuple(KINDS)))
    disease = fields.Str(allow_none=True, validate=validate.OneOf(("htn", "t2dm")))
    quantity = fields.Int(required=True, validate=validate.Range(min=1, max=52))
    period = fields.Str(required=True, validate=validate.OneOf(tuple(PERIODS)))
    provider_level = fields.Str(required=True, validate=validate.OneOf(tuple(LEVELS)))


class PackageInSchema(Schema):
    code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    name = fields.Str(required=True, validate=validate.Length(min=1, max=80))
    description = fields.Str(allow_none=True, validate=validate.Length(max=500))
    target_groups = fields.List(fields.Str(validate=validate.OneOf(TARGET_GROUPS)), load_default=list)
    price_fen = fields.Int(required=True, validate=FEN)
    payer_split = fields.Nested(PayerSplitSchema, required=True)
    items = fields.List(fields.Nested(PackageItemInSchema), required=True, validate=validate.Length(min=1, max=40))


class PackageItemSchema(PackageItemInSchema):
    free_phs = fields.Bool()
    kind_label = fields.Str()
    period_label = fields.Str()
    provider_level_label = fields.Str()
    units_per_cycle = fields.Int()


class PackageSchema(Schema):
    id = fields.Int()
    code = fields.Str()
    version = fields.Int()
    name = fields.Str()
    description = fields.Str(allow_none=True)
    target_groups = fields.List(fields.Str())
    price_fen = fields.Int()
    payer_split = fields.Nested(PayerSplitSchema)
    paid = fields.Bool()
    current = fields.Bool()
    items = fields.List(fields.Nested(PackageItemSchema))
    created_by = fields.Str()
    created_at = fields.DateTime()


class PackageListSchema(Schema):
    items = fields.List(fields.Nested(PackageSchema))
    free_phs_services = fields.Dict(keys=fields.Str(), values=fields.Str())
    target_groups = fields.List(fields.Str())


class ContractQueryArgsSchema(PageArgsSchema):
    status = fields.Str(validate=validate.OneOf(tuple(STATUS_LABELS)))
    resident_id = fields.Int(validate=ID)
    q = fields.Str(validate=validate.Length(max=60))
    per_page = per_page(default=50, maximum=200)


class ContractPackageSchema(Schema):
    code = fields.Str()
    version = fields.Int()
    name = fields.Str()
    price_fen = fields.Int()
    self_fen = fields.Int()
    payer_split = fields.Nested(PayerSplitSchema)


class ContractRowSchema(Schema):
    id = fields.Int()
    contract_no = fields.Str()
    resident_id = fields.Int()
    resident_name = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    channel_label = fields.Str()
    org_name = fields.Str()
    packages = fields.List(fields.Str())
    amount_due_fen = fields.Int()
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()


class ContractListSchema(Schema):
    items = fields.List(fields.Nested(ContractRowSchema))
    total = fields.Int()


class LedgerItemSchema(Schema):
    item_id = fields.Int()
    package_code = fields.Str()
    service_code = fields.Str()
    name = fields.Str()
    kind = fields.Str()
    kind_label = fields.Str()
    disease = fields.Str(allow_none=True)
    provider_level_label = fields.Str()
    quantity = fields.Int()
    delivered = fields.Int()
    remaining = fields.Int()
    next_due_on = fields.Date(allow_none=True)


class DoctorSchema(Schema):
    name = fields.Str()
    org_name = fields.Str()


class SignatureSchema(Schema):
    method = fields.Str()
    method_label = fields.Str(allow_none=True)
    signer = fields.Str(allow_none=True)
    captured_at = fields.Str(allow_none=True)
    image = fields.Str(allow_none=True)


class DeliverySchema(Schema):
    id = fields.Int()
    item_name = fields.Str()
    unit_no = fields.Int()
    source = fields.Str()
    source_label = fields.Str()
    delivered_on = fields.Date()
    due_on = fields.Date(allow_none=True)
    on_time = fields.Bool()


class PaymentSchema(Schema):
    id = fields.Int()
    contract_no = fields.Str()
    contract_id = fields.Int(allow_none=True)
    amount_fen = fields.Int()
    payer = fields.Str()
    status = fields.Str()
    flag = fields.Str(allow_none=True)
    flag_label = fields.Str(allow_none=True)
    received_at = fields.DateTime()


class TerminationSchema(Schema):
    kind = fields.Str()
    reason = fields.Str()
    new_contract_no = fields.Str(allow_none=True)
    effective_on = fields.Str(allow_none=True)
    informed_how = fields.Str(allow_none=True)
    informed_how_label = fields.Str(allow_none=True)
    note = fields.Str(allow_none=True)
    confirmed_at = fields.Str(allow_none=True)
    ledger_delivered = fields.Int(allow_none=True)
    ledger_promised = fields.Int(allow_none=True)


class ContractDetailSchema(Schema):
    id = fields.Int()
    contract_no = fields.Str()
    resident_id = fields.Int()
    resident_name = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    channel = fields.Str()
    channel_label = fields.Str()
    org_code = fields.Str()
    org_name = fields.Str()
    doctor = fields.Nested(DoctorSchema, allow_none=True)
    assessment = fields.Dict()
    recommended = fields.List(fields.Str())
    packages = fields.List(fields.Nested(ContractPackageSchema))
    amount_due_fen = fields.Int()
    offer_expires_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    signature = fields.Nested(SignatureSchema, allow_none=True)
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    renewal = fields.Str(allow_none=True)
    satisfaction = fields.Int(allow_none=True)
    end_reason = fields.Str(allow_none=True)
    termination = fields.Nested(TerminationSchema, allow_none=True)
    instance_id = fields.Int(allow_none=True)
    previous_contract_no = fields.Str(allow_none=True)
    ledger = fields.List(fields.Nested(LedgerItemSchema))
    deliveries = fields.List(fields.Nested(DeliverySchema))
    payments = fields.List(fields.Nested(PaymentSchema))
    created_at = fields.DateTime()


class ContractCreateSchema(Schema):
    resident_id = fields.Int(required=True, validate=ID)
    package_code = fields.Str(allow_none=True, validate=validate.Length(max=40))
    moved = fields.Bool(load_default=False, metadata={"description": "居民迁居：旧签约在新签约生效时解约"})
    team_org_code = fields.Str(load_default=None, validate=validate.Length(max=40), metadata={
        "description": "签约团队所在机构（默认居民所属机构）；更换团队时为新团队，须在调用者范围内"})


class SignatureInSchema(Schema):
    method = fields.Str(required=True, validate=validate.OneOf(tuple(SIGNATURE_METHODS)))
    image = fields.Str(required=True, validate=validate.Length(max=2_000_000),
                       metadata={"description": "data URL: PNG drawn on the phone, or a scan (PNG/JPEG/PDF)"})
    signer = fields.Str(required=True, validate=validate.Length(min=1, max=60))


class DeliveryInSchema(Schema):
    item_id = fields.Int(required=True, validate=ID)
    delivered_on = fields.Date(load_default=None)
    note = fields.Str(validate=validate.Length(max=200))


class OutreachSchema(Schema):
    org_code = fields.Str(validate=validate.Length(max=40))
    dry_run = fields.Bool(load_default=True)
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


class OutreachRowSchema(Schema):
    resident_id = fields.Int()
    resident_name = fields.Str()
    groups = fields.List(fields.Str())
    skip = fields.Str(allow_none=True)
    contract_no = fields.Str()


class OutreachResultSchema(Schema):
    dry_run = fields.Bool()
    would_start = fields.Int()
    started = fields.Int()
    residents = fields.List(fields.Nested(OutreachRowSchema))


class ResidentContractBriefSchema(Schema):
    contract_id = fields.Int()
    contract_no = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    team_org_name = fields.Str(allow_none=True)
    doctor = fields.Nested(DoctorSchema, allow_none=True)
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    amount_due_fen = fields.Int(allow_none=True)
    paid = fields.Bool()
    packages = fields.List(fields.Nested(ContractPackageSchema))
    ledger = fields.List(fields.Nested(LedgerItemSchema))


class ResidentContractEndedSchema(Schema):
    contract_id = fields.Int()
    contract_no = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    team_org_name = fields.Str(allow_none=True)
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    end_reason = fields.Str(allow_none=True)


class ResidentContractSchema(Schema):
    """The resident record's contract section: the active contract (packages, ledger), one being signed, the most
    recent ended one, and the next due items of the active contract."""
    resident_id = fields.Int()
    active = fields.Nested(ResidentContractBriefSchema, allow_none=True)
    pending = fields.Nested(ResidentContractBriefSchema, allow_none=True)
    last_ended = fields.Nested(ResidentContractEndedSchema, allow_none=True)
    next_due = fields.List(fields.Nested(LedgerItemSchema))
    can_request = fields.Bool()


class SummarySchema(Schema):
    resident_id = fields.Int()
    active = fields.Dict(allow_none=True)
    pending = fields.Dict(allow_none=True)
    last_ended = fields.Dict(allow_none=True)
    can_request = fields.Bool()


CHANNELS = tuple(CHANNEL_LABELS)
