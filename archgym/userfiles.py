"""Files a user names: read them, or check where outputs go, with one-line errors.

Every reader of a user's file (a design, a sweep spec, a suite, a workload, a
trace, a run table) and every command that writes outputs goes through these,
so a missing file, a folder, binary junk, an empty path, a read-only folder or
a parent that is a file is one line naming the path and what was expected --
never a ``FileNotFoundError``/``IsADirectoryError``/``UnicodeDecodeError``
traceback.
"""
from __future__ import annotations

import os
from typing import Any

from .errors import UserInputError

__all__ = ["FileInputError", "read_text", "check_readable", "output_folder", "output_file"]


class FileInputError(UserInputError):
    """A file a user named cannot be read, or an output place cannot be written."""


def check_readable(path: Any, what: str, error: type[UserInputError] = FileInputError) -> str:
    """``path`` as a string if it names a readable file; else one ``error`` line."""
    p = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not p:
        raise error(f"{what}: give a file path, got {path!r}")
    if os.path.isdir(p):
        raise error(f"{what} {p!r} is a folder; give a file")
    if not os.path.exists(p):
        raise error(f"{what} {p!r}: no such file")
    if not os.access(p, os.R_OK):
        raise error(f"{what} {p!r} cannot be read (permission denied)")
    return p


def read_text(path: Any, what: str, error: type[UserInputError] = FileInputError) -> str:
    """The text of a UTF-8 file (one ``error`` line for a missing file, a
    folder, a file that is not text)."""
    p = check_readable(path, what, error)
    try:
        with open(p, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise error(f"{what} {p!r} cannot be read: {exc.strerror or exc}") from None
    if b"\x00" in data[:65536]:
        raise error(f"{what} {p!r} is not a text file (it holds binary data)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {p!r} is not UTF-8 text (byte {exc.start}); give a text file") from None


def output_folder(path: Any, what: str, error: type[UserInputError] = FileInputError) -> str:
    """``path`` as a folder outputs can be written into, created if missing;
    one ``error`` line for an empty path, a path that is a file (or under one)
    or a folder that cannot be written."""
    p = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
    if not p or not p.strip():
        raise error(f"{what}: give a folder, got {path!r}")
    if os.path.exists(p) and not os.path.isdir(p):
        raise error(f"{what} {p!r} is a file; give a folder")
    try:
        os.makedirs(p, exist_ok=True)
    except OSError as exc:
        raise error(f"{what} {p!r}: cannot create the folder ({exc.strerror or exc})") from None
    probe = os.path.join(p, f".archgym-write-probe-{os.getpid()}")
    try:  # a real write: permission bits do not stop root, a read-only mount does
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as exc:
        raise error(f"{what} {p!r}: the folder cannot be written ({exc.strerror or exc})") from None
    return p


def output_file(path: Any, what: str, error: type[UserInputError] = FileInputError) -> str:
    """``path`` as a file that can be written (its folder created if missing);
    one ``error`` line otherwise."""
    p = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
    if not p or not p.strip():
        raise error(f"{what}: give a file path, got {path!r}")
    if os.path.isdir(p):
        raise error(f"{what} {p!r} is a folder; give a file path")
    output_folder(os.path.dirname(os.path.abspath(p)), f"{what}'s folder", error)
    if os.path.exists(p) and not os.access(p, os.W_OK):
        raise error(f"{what} {p!r} cannot be written (permission denied)")
    return p
