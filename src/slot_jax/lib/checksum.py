"""A checksum of each checkpoint step's contents: written when the save completes, checked on restore.

orbax renames a step's temporary directory into place once every file is written; just before the
rename, :func:`write_checksum` records the SHA-256 of every file of the step's items (``state/...``)
in ``<step>/checksum.json``. A step therefore appears on disk with its checksum, or not at all.
:func:`damage` compares the files with it later and names the first that differs, so bytes changed
after the save (bit rot, a bad copy) are found before they are restored. A step saved without a
checksum (by an earlier version) is not checked.

Only files inside the step's item directories count: orbax rewrites the step's own top-level files
(``_CHECKPOINT_METADATA``, ``commit_success.txt``) as it commits.
"""

from __future__ import annotations

import hashlib
import json
import os

CHECKSUM_FILE = "checksum.json"


def _file_digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _item_files(step_dir: str) -> list[str]:
    """The files below the item directories of ``step_dir``, relative to it, sorted."""
    out = []
    for entry in sorted(os.scandir(step_dir), key=lambda e: e.name):
        if not entry.is_dir():
            continue
        for root, dirs, files in os.walk(entry.path):
            dirs.sort()
            out.extend(os.path.relpath(os.path.join(root, name), step_dir) for name in sorted(files))
    return out


def digests(step_dir: str) -> dict[str, str]:
    """``relative path -> SHA-256`` of every file of the items of ``step_dir``."""
    return {name: _file_digest(os.path.join(step_dir, name)) for name in _item_files(step_dir)}


def write_checksum(step_dir: str) -> None:
    """Writes ``<step_dir>/checksum.json`` (atomically) for the files there now."""
    path = os.path.join(step_dir, CHECKSUM_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"sha256": digests(step_dir)}, f, indent=0, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def damage(step_dir: str) -> str | None:
    """What differs between ``step_dir`` and its checksum, as one phrase; None when every file
    matches, or when the step has no checksum (saved before checksums were written)."""
    path = os.path.join(step_dir, CHECKSUM_FILE)
    try:
        with open(path) as f:
            expected = json.load(f)["sha256"]
        if not isinstance(expected, dict):
            raise TypeError("not a mapping")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:
        return f"its {CHECKSUM_FILE} cannot be read ({type(err).__name__}: {err})"
    for name, digest in sorted(expected.items()):
        try:
            actual = _file_digest(os.path.join(step_dir, name))
        except FileNotFoundError:
            return f"{name} is missing"
        except OSError as err:
            return f"{name} cannot be read ({err.strerror or err})"
        if actual != digest:
            return f"{name} differs from the checksum written when it was saved"
    return None
