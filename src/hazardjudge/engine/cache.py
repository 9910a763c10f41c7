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
    path = folder / f"{cache_key}{_SUFFIX}"
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
                stored_key, bundle = pickle.load(f)
            finally:
                if was_enabled:
                    gc.enable()
        if stored_key != cache_key:
            return None
        os.utime(path)  # the most recently used entries survive pruning
    except Exception:  # noqa: BLE001 - missing, damaged or foreign: a miss, never an error
        return None
    return bundle


def put(cache_key: str, bundle: Any) -> None:
    folder = directory()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return
        seen = folder / f"{cache_key}{_SEEN}"
        if not seen.exists():
            seen.touch()
            _prune(folder, _SEEN, KEEP_SEEN)
            return
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            was_enabled = gc.isenabled()
            gc.disable()  # the pickler's memo grows by every object; collections only re-walk them
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(_MAGIC)
                    pickle.dump((cache_key, bundle), f, protocol=pickle.HIGHEST_PROTOCOL)
            finally:
                if was_enabled:
                    gc.enable()
            # Atomic: a concurrent reader sees the old entry or the whole new one.
            os.replace(tmp, folder / f"{cache_key}{_SUFFIX}")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        seen.unlink(missing_ok=True)
        _prune(folder, _SUFFIX, KEEP)
    except Exception:  # noqa: BLE001 - read-only home, full disk, unpicklable overlay object: just no cache
        return


def _prune(folder: Path, suffix: str, keep: int) -> None:
    entries = sorted(folder.glob(f"*{suffix}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)

