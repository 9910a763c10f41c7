"""A per-user cache of loaded bundles, keyed by what a load's result depends on.

Reading and validating the shipped YAML is most of a one-off judgement's time (measured
here: ~700 ms of a ~1.3 s CLI run; unpickling the same bundle takes ~180 ms). A load
first hashes every file of the bundle (the fingerprint it computes anyway); a cached
bundle is used only when the fingerprint, the folders as given, the loader's own source
code and the versions of Python, pydantic and PyYAML all match, so a changed rule, a
moved folder or an upgraded hazardjudge can never be answered from a stale copy. Only
bundles that loaded without errors are stored; warnings travel with them.

Writing an entry costs about as much as the load it saves (~400 ms for the shipped bundle),
and a standards officer's edit-lint-edit loop makes a new fingerprint every time. So a
bundle is stored only when it is loaded a second time: the first load leaves an empty
marker, the second finds it and writes the entry, the third and later are hits.

``HAZARDJUDGE_CACHE``: a directory to use instead of ``$XDG_CACHE_HOME/hazardjudge``
(``~/.cache/hazardjudge``), or ``off`` to never read or write one. A cache that cannot
be read or written is ignored: the load then simply reads the YAML.

Compiled document versions are cached beside their bundle's entry, one file per version
(compiling is lazy: a CLI run compiles only the versions in force on its date). They are
stored only for a bundle that is itself cached, and removed with its entry. Compiling the
shipped bundle's versions takes ~1 s; reading them back ~70 ms. A compiled version points
into its bundle's rule items, which are pickled as references (their ids) and resolved
against the bundle the version is read into, so nothing of the bundle is stored twice.

Pickle executes what it loads, so a cache directory is used only if it belongs to this
user and nobody else can write to it; each file must belong to this user too.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

CACHE_ENV = "HAZARDJUDGE_CACHE"
_OFF = {"off", "0", "no", "false", "none"}
#: entries kept; older ones are removed when a new one is written (each ~5 MB for the shipped bundle)
KEEP = 8
_SUFFIX = ".bundle.pickle"
_DOC_SUFFIX = ".doc.pickle"
_SEEN = ".seen"
#: markers kept (empty files): enough for many edits between two loads of the same bundle
KEEP_SEEN = 64
_MAGIC = b"hazardjudge-bundle-cache-1"
_code_digest: str | None = None


def directory() -> Path | None:
    """Where bundles are cached, or None when caching is off."""
    setting = os.environ.get(CACHE_ENV, "").strip()
    if setting.lower() in _OFF:
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hazardjudge"


def _code() -> str:
    """Digest of the code whose objects a cached bundle holds (the engine package and errors)."""
    global _code_digest
    if _code_digest is None:
        import pydantic
        import yaml

        digest = hashlib.sha256(f"{sys.version}\0{pydantic.VERSION}\0{yaml.__version__}\0".encode())
        package = Path(__file__).resolve().parents[1]
        for path in sorted((package / "engine").glob("*.py")) + [package / "errors.py"]:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _code_digest = digest.hexdigest()
    return _code_digest


def key(fingerprint: str, folders: list[Path]) -> str:
    """The cache key of one load: the bundle's content, where it was loaded from, and the code."""
    digest = hashlib.sha256(f"{fingerprint}\0{_code()}\0".encode())
    for folder in folders:
        # As given (made absolute): the bundle records its folders and file paths so.
        digest.update(str(folder if folder.is_absolute() else Path.cwd() / folder).encode() + b"\0")
    return digest.hexdigest()[:32]


def _private(path: Path, info: os.stat_result | None = None) -> bool:
    info = info or path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def get(cache_key: str) -> Any | None:
    folder = directory()
    if folder is None:
        return None
    stored = _read(folder, folder / f"{cache_key}{_SUFFIX}", pickle.Unpickler)
    if stored is None or stored[0] != cache_key:
        return None
    return stored[1]


def put(cache_key: str, bundle: Any) -> bool:
    """Store a bundle on its second load; True when it is stored (now or before)."""
    folder = directory()
    if folder is None:
        return False
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return False
        seen = folder / f"{cache_key}{_SEEN}"
        if not seen.exists():
            seen.touch()
            _prune(folder, _SEEN, KEEP_SEEN)
            return False
        _write(folder, f"{cache_key}{_SUFFIX}", (cache_key, bundle), pickle.Pickler)
        seen.unlink(missing_ok=True)
        _prune(folder, _SUFFIX, KEEP)
        return True
    except Exception:  # noqa: BLE001 - read-only home, full disk, unpicklable overlay object: just no cache
        return False


def _doc_path(folder: Path, cache_key: str, doc_key: str) -> Path:
    return folder / f"{cache_key}.{hashlib.sha256(doc_key.encode()).hexdigest()[:16]}{_DOC_SUFFIX}"


def get_document(cache_key: str, doc_key: str, items: dict[str, Any]) -> Any | None:
    """A compiled document version of a cached bundle, its rule items resolved in ``items``."""
    folder = directory()
    if folder is None:
        return None

    class Unpickler(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            return items[pid]  # an item this bundle lacks: a KeyError, a miss

    # Not touched: a version is pruned with its bundle's entry, whose use keeps both.
    stored = _read(folder, _doc_path(folder, cache_key, doc_key), Unpickler, touch=False)
    if stored is None or stored[:2] != (cache_key, doc_key):
        return None
    return stored[2]


def put_document(cache_key: str, doc_key: str, document: Any, items: dict[str, Any]) -> None:
    folder = directory()
    if folder is None or not (folder / f"{cache_key}{_SUFFIX}").exists():
        return  # only beside a stored bundle, which prunes them with it
    ids = {id(item): key for key, item in items.items()}

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            return ids.get(id(obj))

    try:
        if not _private(folder):
            return
        _write(folder, _doc_path(folder, cache_key, doc_key).name, (cache_key, doc_key, document), Pickler)
    except Exception:  # noqa: BLE001 - as for bundles: no cache, never an error
        return


def _read(folder: Path, path: Path, unpickler: type[pickle.Unpickler], touch: bool = True) -> Any | None:
    try:
        if not _private(folder):
            return None
        with open(path, "rb") as f:
            if not _private(path, os.fstat(f.fileno())):
                return None
            if f.read(len(_MAGIC)) != _MAGIC:
                return None
            was_enabled = gc.isenabled()
            gc.disable()  # tens of thousands of long-lived objects, no cycles worth a collection
            try:
                stored = unpickler(f).load()
            finally:
                if was_enabled:
                    gc.enable()
        if touch:
            os.utime(path)  # the most recently used entries survive pruning (up to ~10 ms a file here)
    except Exception:  # noqa: BLE001 - missing, damaged or foreign: a miss, never an error
        return None
    return stored


def _write(folder: Path, name: str, value: Any, pickler: type[pickle.Pickler]) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        was_enabled = gc.isenabled()
        gc.disable()  # the pickler's memo grows by every object; collections only re-walk them
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC)
                pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        finally:
            if was_enabled:
                gc.enable()
        # Atomic: a concurrent reader sees the old entry or the whole new one.
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prune(folder: Path, suffix: str, keep: int) -> None:
    entries = sorted(folder.glob(f"*{suffix}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)
    if suffix == _SUFFIX:
        # A bundle's compiled versions go with it (and any left by an entry removed otherwise).
        bundles = {p.name[: -len(_SUFFIX)] for p in entries[:keep]}
        for doc in folder.glob(f"*{_DOC_SUFFIX}"):
            if doc.name.split(".", 1)[0] not in bundles:
                doc.unlink(missing_ok=True)
