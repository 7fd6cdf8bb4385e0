"""A projection kept on disk between processes: the CLI's warm start.

Every CLI command is a new process; on a large store building the projection
(and the ranking's match index) costs far more than the answer. The first
command writes what it built to ``projection.cache`` in the store's cache
directory (:meth:`GraphStore.cache_dir`: the embedded store's own directory; a
per-user directory for Neo4j, named after its URI and database), and the next
ones read it back — when, and only when, it describes the store as it is now.

The file says what it was made from: the store's :meth:`~GraphStore.identity`
(where it lives and which lineage of it), the :meth:`~GraphStore.revision` the
projection was computed at, and the version of the code that made it (a hash
of ``graph/`` and ``queries/`` and the library versions). Before use, all three
are compared with the store's current ones (the revision must lie between the
store's :meth:`~GraphStore.analytic_revision` and its revision: a write no
analytic reads — a job's heartbeat, an API key, a request's message — leaves
the file current) — the embedded (SQLite) store reads
them from its meta table without loading any record — and the payload's
checksum with the payload's bytes. Anything else (another revision, another
code version, a torn or damaged file, a file another user could have written)
is ignored, and the projection rebuilt and written again. A file is written to
a temporary name and renamed: readers see the old file or the new one.

The projection read back is the one the build made (the same rows, the same
arrays), so every view computed from it — confidentiality included — is the same.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import logging
import mmap
import os
import pickle
import struct
import sys
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from coopgraph.graph.store import GraphStore
from coopgraph.queries.projection import (
    PATCHABLE_MARK,
    InsertedList,
    Projection,
    ProjectionCache,
)

__all__ = ["CACHE_FILE", "DiskProjection", "code_version"]

CACHE_FILE = "projection.cache"
_MAGIC = b"COOPGRAPH-PROJECTION-1\n"
_LEN = struct.Struct(">I")
# Not kept on disk: the mark that a projection may be patched (patching is for a
# long-lived process, which builds its own) and the networkx cooperation graph (rebuilt
# on use).
_NOT_KEPT_EXTRA = frozenset({PATCHABLE_MARK})
_NOT_KEPT_FIELDS = frozenset({"cooperation_graph"})
log = logging.getLogger("coopgraph.projection")


@cache
def code_version() -> str:
    """A hash of the code a cached projection depends on: ``graph/`` and ``queries/``
    (every module's bytes), Python's, NumPy's and SciPy's versions."""
    import numpy as np
    import scipy

    import coopgraph.graph.store as graph_module

    digest = hashlib.sha256(f"{sys.version}|{np.__version__}|{scipy.__version__}".encode())
    for package in (Path(graph_module.__file__).parent, Path(__file__).parent):
        for module in sorted(package.rglob("*.py")):
            digest.update(module.name.encode())
            digest.update(module.read_bytes())
    return digest.hexdigest()


class DiskProjection:
    """The projection of ``store`` at its current revision, from the disk when it can be.

    ``warm`` (optional) computes the derived structures a command needs
    (the match index…) on a projection before it is written, so that the next
    command finds them too; a file read without them is warmed and written again.
    """

    def __init__(self, store: GraphStore, *,
                 warm: Callable[[Projection], object] | None = None) -> None:
        self.store = store
        self.warm = warm
        directory = store.cache_dir()
        self.file: Path | None = directory / CACHE_FILE if directory is not None else None
        self.hit = False  # the last get() was answered from the file
        self.written = False  # the last get() wrote the file

    def get(self) -> Projection:
        """The projection at the store's current revision (see the module docstring)."""
        self.hit = self.written = False
        identity = self.store.identity() if self.file is not None else None
        if identity is not None:
            assert self.file is not None
            found = _read(self.file, identity, self.store.analytic_revision(),
                          self.store.revision())
            if found is not None:
                self.hit = True
                if self.warm is not None and self._warmed(found):
                    self._write(found)
                return found
        projection = ProjectionCache(self.store).get()
        if self.warm is not None:
            self._warmed(projection)
        self._write(projection)
        return projection

    def _warmed(self, projection: Projection) -> bool:
        """Run ``warm``; True when it added anything worth keeping."""
        assert self.warm is not None
        before = set(projection.extra) | set(vars(projection))
        try:
            self.warm(projection)
        except Exception:  # an optimisation only: the command computes what it needs
            log.warning("warming projection %s failed", projection.revision, exc_info=True)
            return False
        return bool((set(projection.extra) | set(vars(projection))) - before)

    def _write(self, projection: Projection) -> None:
        """Keep ``projection`` — only if the store is still at its revision (no write since)."""
        if self.file is None:
            return
        identity = self.store.identity()
        if identity is None or self.store.analytic_revision() > projection.revision:
            return  # an analytic write came after it: stale already
        try:
            _write(self.file, identity, projection)
            self.written = True
        except OSError as exc:  # a read-only directory, a full disk: answer all the same
            log.warning("cannot keep the projection in %s: %s", self.file, exc)


def _header(identity: str, revision: int) -> dict[str, Any]:
    return {"identity": identity, "revision": revision, "code": code_version()}


def _read(path: Path, identity: str, analytic: int, revision: int) -> Projection | None:
    """The projection in ``path`` if it was made for this identity and code, at a revision
    from the store's ``analytic`` revision (the last write an analytic reads) to its
    current ``revision``: writes of other kinds since (a job's heartbeat, a key, a
    request's message) leave it current."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            stat = os.fstat(handle.fileno())
            if stat.st_uid != os.getuid() or stat.st_mode & 0o022:
                log.warning("ignoring %s: not private to this user", path)
                return None  # unpickling runs code: only our own, unwritable by others
            if handle.read(len(_MAGIC)) != _MAGIC:
                return None
            size = _LEN.unpack(handle.read(_LEN.size))[0]
            header = json.loads(handle.read(size))
            made_at = header.get("revision")
            if {k: header.get(k) for k in ("identity", "code")} != \
                    {k: v for k, v in _header(identity, 0).items() if k != "revision"} \
                    or not isinstance(made_at, int) or not analytic <= made_at <= revision:
                return None  # another store or code version, or an analytic write since
            start = handle.tell()
            if stat.st_size - start != header["length"]:
                log.warning("ignoring %s: damaged (length)", path)
                return None
            # Mapped, not read: the payload is unpickled straight from the page cache
            # (reading 141 MB into a bytes object first cost more than unpickling it).
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                payload = memoryview(mapped)[start:]
                try:
                    projection = _checked_loads(payload, header["crc"], path)
                finally:
                    payload.release()
        if projection is None:
            return None
    except Exception as exc:  # a torn or damaged file is a cache miss, never an error
        log.warning("ignoring %s: %s", path, exc)
        return None
    if not isinstance(projection, Projection) or projection.revision != made_at:
        return None
    return projection


def _checked_loads(payload: memoryview, crc: int, path: Path) -> Any:
    """Unpickle ``payload`` if its checksum is ``crc``; None (and a warning) if not.

    Unpickling copies what it reads (protocol 5 without out-of-band buffers): no
    object keeps a reference to ``payload``, which the caller unmaps.
    """
    if zlib.crc32(payload) != crc:
        log.warning("ignoring %s: damaged (checksum)", path)
        return None
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects, none garbage: the collector only slows it
    try:
        return pickle.loads(payload)
    finally:
        if collecting:
            gc.enable()


def _shared(values: list[Any]) -> list[Any]:
    """``values`` with equal items made one object: pickle then writes each once, and
    reading back 77k companies' role sets or 240k supply dates takes milliseconds."""
    seen: dict[Any, Any] = {}
    try:
        return [seen.setdefault(v, v) for v in values]
    except TypeError:  # unhashable items (dicts): as they are
        return values


def _write(path: Path, identity: str, projection: Projection) -> None:
    """Write the file atomically (a temporary file, fsynced, renamed), readable by us only."""
    kept = copy.copy(projection)
    for name in _NOT_KEPT_FIELDS:
        kept.__dict__.pop(name, None)
    kept.extra = {k: v for k, v in projection.extra.items() if k not in _NOT_KEPT_EXTRA}
    for name, value in list(vars(kept).items()):
        if isinstance(value, InsertedList):  # companies inserted by a patch: a list
            value = value.made()
        if isinstance(value, list):
            setattr(kept, name, _shared(value))
    payload = pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)
    header = json.dumps({**_header(identity, projection.revision),
                         "length": len(payload), "crc": zlib.crc32(payload)}).encode()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(_MAGIC + _LEN.pack(len(header)) + header)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
