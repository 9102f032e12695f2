"""Output paths checked before the work that fills them.

``check_output_path`` refuses, with a ``ValueError`` naming the option, a path with the wrong
suffix, a directory, a path whose directory does not exist, and one that cannot be written (a
read-only filesystem, no permission) — found by opening the file for writing (and removing it
again if it did not exist), so what the operating system would refuse after an hour of work is
refused at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["OutputPathError", "check_output_path"]


class OutputPathError(ValueError):
    """An output path that cannot be written."""


def check_output_path(text: str | Path, what: str, suffixes: Sequence[str] | None = None) -> Path:
    """The path ``text`` if a file can be written there; ``OutputPathError`` naming ``what``."""
    path = Path(text)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        choices = ", ".join(suffixes[:-1]) + (" or " if len(suffixes) > 1 else "") + suffixes[-1]
        raise OutputPathError(f"{what} must end in {choices}, got {str(text)!r}")
    if path.is_dir():
        raise OutputPathError(f"{what}: {str(text)!r} is a directory")
    parent = path.parent
    if not parent.exists():
        raise OutputPathError(f"{what}: directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise OutputPathError(f"{what}: {str(parent)!r} is not a directory")
    existed = path.exists()
    try:
        descriptor = os.open(path, os.O_WRONLY | (0 if existed else os.O_CREAT | os.O_EXCL), 0o644)
    except FileExistsError:  # created meanwhile by someone else: writable enough to try
        return path
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputPathError(f"{what}: {str(text)!r} is not writable ({reason})") from None
    os.close(descriptor)
    if not existed:
        try:
            path.unlink()
        except OSError:
            pass
    return path
