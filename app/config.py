"""Settings from the environment. The embedded default needs none: SQLite in DATA_DIR, jobs in-process."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _secret(data_dir: Path, name: str, env: str) -> str:
    """A secret from the environment, else one generated once and kept in DATA_DIR (embedded default)."""
    if os.environ.get(env):
        return os.environ[env]
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


@dataclass
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    field_key: str
    jobs_mode: str                       # "rq" | "thread" | "eager"
    scheduler_enabled: bool
    asset_root: Path = ROOT
    display_tz: str = "Asia/Shanghai"
    script_timeout_s: float = 2.0
    script_extensions: tuple[str, ...] = ()   # YGT_SCRIPT_EXTENSIONS: site modules with SCRIPT_FUNCTIONS
    extra: dict = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.redis_url is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        data_dir = Path(overrides.pop("data_dir", None) or os.environ.get("DATA_DIR", "instance")).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = overrides.pop("database_url", None) or os.environ.get("DATABASE_URL") or \
            f"sqlite:///{data_dir / 'yigongti.db'}"
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
        redis_url = overrides.pop("redis_url", None) or os.environ.get("REDIS_URL") or None
        jobs_mode = overrides.pop("jobs_mode", None) or os.environ.get("YGT_JOBS") or \
            ("rq" if redis_url else "thread")
        return cls(
            data_dir=data_dir, database_url=database_url, redis_url=redis_url,
            secret_key=_secret(data_dir, "secret_key", "SECRET_KEY"),
            field_key=_secret(data_dir, "field_key", "YGT_FIELD_KEY"),
            jobs_mode=jobs_mode,
            script_extensions=overrides.pop("script_extensions", None) or tuple(
                m.strip() for m in os.environ.get("YGT_SCRIPT_EXTENSIONS", "").split(",") if m.strip()),
            display_tz=overrides.pop("display_tz", None) or os.environ.get("YGT_DISPLAY_TZ", "Asia/Shanghai"),
            scheduler_enabled=overrides.pop("scheduler_enabled", None)
            if "scheduler_enabled" in overrides else os.environ.get("YGT_SCHEDULER", "1" if not redis_url else "0") == "1",
            **overrides)
