"""Field encryption and keyed hashes, both derived from the settings' `field_key`.

* `encrypt_field` / `decrypt_field`: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived by HKDF-SHA256.
* `keyed_hash`: HMAC-SHA256 under a second derived key, for exact-match search on encrypted values (id numbers).
* `SealedText` / `SealedJSON`: column types that encrypt on write and decrypt on read, for whole bodies kept at
  rest (HL7/FHIR/webhook messages): callers read and write plain values.
Separate HKDF labels keep the two keys independent; rotating `field_key` needs a re-encryption job.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, has_app_context
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def _derive(field_key: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yigongti", info=label).derive(field_key.encode())


@lru_cache(maxsize=8)
def _fernet(field_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(field_key, b"ygt field encryption v1")))


@lru_cache(maxsize=8)
def _hash_key(field_key: str) -> bytes:
    return _derive(field_key, b"ygt keyed hash v1")


_configured_key: str | None = None


def configure(field_key: str) -> None:
    """Remember the process's field key (create_app calls this) for code that runs without an app context."""
    global _configured_key
    _configured_key = field_key


def current_field_key() -> str:
    """The field key of the running app (settings `field_key`)."""
    if has_app_context():
        key: str = current_app.config["YGT"].field_key
        return key
    if _configured_key is None:
        raise RuntimeError("field key not configured (create_app() or crypto.configure())")
    return _configured_key


def encrypt_field(value: str, field_key: str | None = None) -> str:
    return _fernet(field_key or current_field_key()).encrypt(value.encode()).decode()


def decrypt_field(token: str, field_key: str | None = None) -> str:
    return _fernet(field_key or current_field_key()).decrypt(token.encode()).decode()


def keyed_hash(value: str, field_key: str | None = None) -> str:
    return hmac.new(_hash_key(field_key or current_field_key()), value.encode(), hashlib.sha256).hexdigest()


SEALED_PREFIX = "enc1:"


def seal(value: str, field_key: str | None = None) -> str:
    return SEALED_PREFIX + encrypt_field(value, field_key)


def unseal(value: str, field_key: str | None = None) -> str:
    """The plain text of a sealed value (a value written before sealing existed is returned as it is)."""
    return decrypt_field(value[len(SEALED_PREFIX):], field_key) if value.startswith(SEALED_PREFIX) else value


class SealedText(TypeDecorator[str]):
    """Text encrypted at rest with the field key (Fernet), transparent to the ORM."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else unseal(value)


class SealedJSON(TypeDecorator[Any]):
    """A JSON document encrypted at rest (stored as sealed text), transparent to the ORM."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else seal(json.dumps(value, ensure_ascii=False, default=str))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        text = unseal(value)
        return json.loads(text) if isinstance(text, str) else text
