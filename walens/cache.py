"""A small on-disk cache for what walens derives from its own data files (the rule catalogue, the lens).

Parsing and validating ~60 rule files and the lens catalogue costs tens of milliseconds on every run,
more than reviewing a small template. The derived objects are pickled under the user's cache directory,
keyed by the walens version and the path, size and modification time of every source file, so an edited
rule (an editable install, ``--rules-dir``) is re-read at once. Any problem with the cache (unwritable
directory, a truncated or foreign file) falls back to building from source: the cache can make walens
faster, never wrong. ``WALENS_NO_CACHE=1`` turns it off; ``WALENS_CACHE_DIR`` moves it.

Only walens' own pickles are ever read: the file name is a hash of the key, and the pickle repeats the
key, which must match.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from walens import __version__

T = TypeVar("T")
_FORMAT = 1


def cache_dir() -> Path | None:
    """Where the cache lives, or None when caching is off."""
    if os.environ.get("WALENS_NO_CACHE", "").strip() not in ("", "0"):
        return None
    explicit = os.environ.get("WALENS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "walens"


def _signature(sources: Iterable[Any]) -> tuple[tuple[str, int, int], ...] | None:
    """(path, size, mtime_ns) of every source; None when one is not a real file (e.g. inside a zip)."""
    out = []
    for source in sources:
        try:
            st = os.stat(os.fspath(source))
        except (OSError, TypeError):
            return None
        out.append((os.fspath(source), st.st_size, st.st_mtime_ns))
    return tuple(out)


def cached(name: str, sources: Iterable[Any], build: Callable[[], T]) -> T:
    """``build()``, or its pickled result from an earlier run made from the same ``sources``."""
    where = cache_dir()
    signature = _signature(sources) if where is not None else None
    if where is None or signature is None:
        return build()
    key = (_FORMAT, __version__, name, signature)
    digest = hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:24]
    path = where / f"{name}-{digest}.pickle"
    try:
        with open(path, "rb") as handle:
            stored_key, value = pickle.load(handle)
        if stored_key == key:
            return value  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - a missing or damaged cache only means building again
        pass
    value = build()
    tmp: str | None = None
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, prefix=f".{name}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((key, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for old in where.glob(f"{name}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - an unwritable cache directory is not an error
        try:
            if tmp is not None:
                os.unlink(tmp)
        except Exception:  # noqa: BLE001
            pass
    return value
