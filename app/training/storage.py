"""Where material files live: a folder under DATA_DIR (default) or an S3-compatible object store (MinIO, Ceph,
OSS/COS in S3 mode), chosen by YGT_TRAINING_STORAGE. Keys are opaque; only this module knows the backend."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from flask import current_app

from .settings import settings

CHUNK = 1024 * 1024


class Storage(Protocol):
    def put(self, key: str, stream: IO[bytes], *, size: int, content_type: str) -> None: ...
    def open(self, key: str) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...


class DiskStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("storage key escapes the storage root")
        return path

    def put(self, key: str, stream: IO[bytes], *, size: int, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        stream.seek(0)
        with open(tmp, "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)
        tmp.replace(path)

    def open(self, key: str) -> Iterator[bytes]:
        with open(self._path(key), "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    def __init__(self) -> None:
        import boto3  # noqa: PLC0415 - boto3 takes ~0.6 s to import; only the S3 backend loads it
        cfg = settings()
        self.bucket = cfg.s3_bucket
        self.client = boto3.client("s3", endpoint_url=cfg.s3_endpoint, region_name=cfg.s3_region,
                                   aws_access_key_id=cfg.s3_access_key, aws_secret_access_key=cfg.s3_secret_key)

    def put(self, key: str, stream: IO[bytes], *, size: int, content_type: str) -> None:
        stream.seek(0)
        self.client.upload_fileobj(stream, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def open(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


def backend() -> Storage:
    """The configured store (read on each call, so tests and operators can switch it)."""
    if settings().storage == "s3":
        return S3Storage()
    return DiskStorage(Path(current_app.config["YGT"].data_dir) / "training")
