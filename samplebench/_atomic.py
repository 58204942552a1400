"""Crash-safe file publication: write to a hidden temporary file beside the target, fsync, rename.

`os.replace` is atomic on POSIX within one filesystem, so a reader sees either the old file,
the new file or (for a new name) nothing, never a partial write.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def temp_path_for(target: Path) -> Path:
    """A hidden sibling of `target` that readers ignore (leading dot, `.tmp` suffix)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(target: Path, write: Callable[[Path], None], *, overwrite: bool = True) -> Path:
    """Call `write(tmp)` then atomically move `tmp` to `target`.

    With `overwrite=False` an existing `target` is never replaced (`os.link` fails instead), which
    makes the publication of a uniquely named shard race-free between processes.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)
            os.unlink(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
    return target


def write_text_atomic(target: Path, text: str) -> Path:
    return publish(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def writable_problem(folder: Path, subfolders: tuple[str, ...] = ()) -> str | None:
    """Why files cannot be created in `folder` (or in those of its `subfolders` that exist), or None.

    A folder that does not exist yet counts as writable when its nearest existing ancestor is.
    The test is a real one: create and remove a hidden probe file (permission bits alone say
    nothing about read-only mounts, immutable folders or a process running as root).
    """
    folder = Path(folder).expanduser()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    probes = [existing] + ([folder / s for s in subfolders if (folder / s).is_dir()] if existing == folder else [])
    for d in probes:
        probe = d / f".samplebench-probe-{uuid.uuid4().hex[:8]}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            return f"cannot create files in {d} ({exc.strerror or type(exc).__name__})"
        os.close(fd)
        probe.unlink(missing_ok=True)
    return None
