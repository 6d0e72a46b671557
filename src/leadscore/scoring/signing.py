"""An artifact signed by whoever exported it, for a team that scores with models it did not
build: with ``LEADSCORE_SIGNING_KEY`` set, export writes an HMAC-SHA256 of ``metadata.json``
(which holds the SHA-256 of every other file of the bundle, the compiled model's included), and
every load with the key set refuses a bundle whose signature is missing or does not match.

The file list alone proves a file is the one listed; the signature proves the list is the one
the key's holder exported, so a planted object file cannot come with a list rewritten to match.
Without the key nothing is signed or checked, and the list still is (see
:func:`leadscore.scoring.artifact.check_files`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from leadscore.errors import InputError
from leadscore.scoring.bundle import METADATA_FILE, SIGNATURE_FILE

KEY_ENV = "LEADSCORE_SIGNING_KEY"


def signing_key() -> bytes | None:
    """The key in the environment, if any (an empty one is none)."""
    key = os.environ.get(KEY_ENV, "")
    return key.encode() if key else None


def signature(bundle: Path, key: bytes) -> str:
    return hmac.new(key, (bundle / METADATA_FILE).read_bytes(), hashlib.sha256).hexdigest()


def sign_bundle(bundle: Path) -> bool:
    """Write the bundle's signature when a key is set; whether one was written. Without a key
    an earlier signature is removed: it would no longer match."""
    key = signing_key()
    if key is None:
        (bundle / SIGNATURE_FILE).unlink(missing_ok=True)
        return False
    (bundle / SIGNATURE_FILE).write_text(signature(bundle, key) + "\n")
    return True


def check_signature(bundle: Path) -> None:
    """With a key set, raise :class:`InputError` unless the bundle carries its signature."""
    key = signing_key()
    if key is None:
        return
    path = bundle / SIGNATURE_FILE
    if not path.is_file():
        raise InputError(
            f"{bundle}: not signed, and {KEY_ENV} is set: export it with the key, or unset it "
            "to trust the file list alone"
        )
    if not hmac.compare_digest(path.read_text().strip(), signature(bundle, key)):
        raise InputError(
            f"{bundle}: its signature does not match {METADATA_FILE} under {KEY_ENV}: the model "
            "was changed after export, or signed with another key"
        )
