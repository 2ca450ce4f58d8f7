"""Field encryption lives in `app.core.crypto` (the foundation); this name stays for existing imports."""
from app.core.crypto import current_field_key, decrypt_field, encrypt_field, keyed_hash  # noqa: F401
