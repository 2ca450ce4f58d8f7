"""Field encryption and keyed hashes, both derived from the settings' `field_key`.

* `encrypt_field` / `decrypt_field`: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived by HKDF-SHA256.
* `keyed_hash`: HMAC-SHA256 under a second derived key, for exact-match search on encrypted values (id numbers).
Separate HKDF labels keep the two keys independent; rotating `field_key` needs a re-encryption job.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(field_key: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yigongti", info=label).derive(field_key.encode())


@lru_cache(maxsize=8)
def _fernet(field_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(field_key, b"ygt field encryption v1")))


@lru_cache(maxsize=8)
def _hash_key(field_key: str) -> bytes:
    return _derive(field_key, b"ygt keyed hash v1")


def current_field_key() -> str:
    """The field key of the running app (settings `field_key`)."""
    from flask import current_app
    return current_app.config["YGT"].field_key


def encrypt_field(value: str, field_key: str | None = None) -> str:
    return _fernet(field_key or current_field_key()).encrypt(value.encode()).decode()


def decrypt_field(token: str, field_key: str | None = None) -> str:
    return _fernet(field_key or current_field_key()).decrypt(token.encode()).decode()


def keyed_hash(value: str, field_key: str | None = None) -> str:
    return hmac.new(_hash_key(field_key or current_field_key()), value.encode(), hashlib.sha256).hexdigest()
