"""Typed errors of the supply capability (mapped to HTTP by app.core.errors)."""
from __future__ import annotations

from app.core.errors import Conflict, Invalid, NotFound


class StoreNotFound(NotFound):
    code = "store_not_found"


class ItemNotFound(NotFound):
    code = "supply_item_not_found"


class InsufficientStock(Conflict):
    """Stock never goes negative: an issue or use larger than what the store holds is refused whole."""
    code = "insufficient_stock"


class UdiRefused(Invalid):
    """A scanned UDI that cannot be used; `code` names the reason (udi_unreadable, udi_bad_check_digit,
    udi_expired, udi_recalled, udi_unknown_item, udi_serial_missing)."""
    code = "udi_refused"


class SerialAlreadyUsed(Conflict):
    code = "udi_serial_used"


class MovementInvalid(Invalid):
    code = "movement_invalid"
