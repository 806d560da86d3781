"""A directory as the object store: the default, so the gateway runs with no cloud account.

Layout under the root: `objects/<key>` holds the bytes, `meta/<key>.json` the content type and
metadata, `tmp/` the files being written. A write goes to `tmp/` first and is renamed into place
(metadata first, bytes last), and rename is atomic on one file system: readers in any worker or
process see the whole old object or the whole new one. An object exists exactly when its bytes do.
Writes are not synced to disk (see `put`): a machine crash may lose the newest objects, which is
why production deployments use R2.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from openai_compat.storage.base import CHUNK_BYTES, ObjectInfo, ObjectNotFound, ObjectStore, StorageError, check_key


class LocalStore(ObjectStore):
    backend = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self._objects = self.root / "objects"
        self._meta = self.root / "meta"
        self._tmp = self.root / "tmp"

    def _paths(self, key: str) -> tuple[Path, Path]:
        key = check_key(key)
        return self._objects / key, self._meta / f"{key}.json"

    def check(self) -> None:
        try:
            for folder in (self._objects, self._meta, self._tmp):
                folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self._tmp):
                pass
        except OSError as exc:
            raise StorageError(
                f"STORAGE_DIR {str(self.root)!r} is not a writable directory ({exc.strerror})."
            ) from None

    def _temporary(self) -> IO[bytes]:
        self._tmp.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=self._tmp, delete=False)

    def put(
        self, key: str, data: bytes | IO[bytes], *, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        path, meta_path = self._paths(key)
        digest = hashlib.md5(usedforsecurity=False)
        written: list[Path] = []
        try:
            with self._temporary() as handle:
                written.append(Path(handle.name))
                if isinstance(data, bytes | bytearray):
                    handle.write(data)
                    digest.update(data)
                else:
                    for chunk in iter(lambda: data.read(CHUNK_BYTES), b""):
                        handle.write(chunk)
                        digest.update(chunk)
                # No fsync: the rename is what makes the write all-or-nothing for readers, and a
                # blocking fsync would stall every request of a gevent worker while the disk syncs.
                handle.flush()
            with self._temporary() as meta:
                written.append(Path(meta.name))
                meta.write(json.dumps({"content_type": content_type, "metadata": dict(metadata or {}),
                                       "etag": digest.hexdigest()}).encode())
            path.parent.mkdir(parents=True, exist_ok=True)
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(written[1], meta_path)
            os.replace(written[0], path)
        except OSError as exc:
            for leftover in written:
                with contextlib.suppress(OSError):
                    leftover.unlink()
            raise StorageError(f"Could not store {key!r} in STORAGE_DIR ({exc.strerror}).") from None
        info = self.head(key)
        if info is None:  # removed between the rename and now
            raise StorageError(f"{key!r} vanished while it was being stored.")
        return info

    def head(self, key: str) -> ObjectInfo | None:
        path, meta_path = self._paths(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"Could not read {key!r} from STORAGE_DIR ({exc.strerror}).") from None
        try:
            meta = json.loads(meta_path.read_bytes())
        except (OSError, ValueError):
            meta = {}
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            content_type=str(meta.get("content_type") or "application/octet-stream"),
            etag=str(meta.get("etag") or f"{stat.st_size:x}-{int(stat.st_mtime_ns):x}"),
            last_modified=stat.st_mtime,
            metadata=meta.get("metadata") or {},
        )

    def open(self, key: str) -> tuple[ObjectInfo, Iterator[bytes]]:
        path, _ = self._paths(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise StorageError(f"Could not read {key!r} from STORAGE_DIR ({exc.strerror}).") from None
        info = self.head(key)
        if info is None:
            handle.close()
            raise ObjectNotFound(key)
        # The open handle keeps the bytes readable even if the object is replaced or deleted meanwhile.
        info = ObjectInfo(info.key, os.fstat(handle.fileno()).st_size, info.content_type, info.etag,
                          info.last_modified, info.metadata)

        def chunks() -> Iterator[bytes]:
            with handle:
                yield from iter(lambda: handle.read(CHUNK_BYTES), b"")

        return info, chunks()

    def delete(self, key: str) -> None:
        path, meta_path = self._paths(key)
        for target in (path, meta_path):
            try:
                target.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StorageError(f"Could not delete {key!r} from STORAGE_DIR ({exc.strerror}).") from None

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        folder = self._objects / prefix.rpartition("/")[0] if "/" in prefix else self._objects
        if not folder.is_dir():
            return
        keys = sorted(
            str(p.relative_to(self._objects)) for p in folder.rglob("*") if p.is_file()
        )
        for key in keys:
            if key.startswith(prefix):
                info = self.head(key)
                if info is not None:
                    yield info

    def sweep(self, prefix: str, older_than_seconds: float) -> int:
        """Delete objects under `prefix` not modified for `older_than_seconds`; the count removed.
        Also clears temporary files a crashed writer left behind."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for info in list(self.list(prefix)):
            if info.last_modified < cutoff:
                self.delete(info.key)
                removed += 1
        if self._tmp.is_dir():
            for leftover in self._tmp.iterdir():
                with contextlib.suppress(OSError):
                    if leftover.stat().st_mtime < time.time() - 3600:
                        leftover.unlink()
        return removed

    def wipe(self) -> None:
        """Remove everything (tests only)."""
        shutil.rmtree(self.root, ignore_errors=True)
