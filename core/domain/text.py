"""Text helpers shared by the core: accent folding, code normalisation, content fingerprints."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NUMERIC_CODE = re.compile(r"\d+(?:\.\d+)*")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced form of ``text`` for matching.

    ``fold("Természettudományok") == "termeszettudomanyok"``; Hungarian ő/ű fold to o/u too.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def normalize_code(code: object) -> str:
    """Canonical form of a taxonomy code.

    Numeric dotted codes lose leading zeros per segment, so the FORD codes ``1.01`` and ``1.1``
    are the same node (``2.10`` stays ``2.10``). Other codes are only stripped of surrounding space.
    A float read from a spreadsheet (``1.0``) is not special-cased: codes are read as text.
    """
    text = str(code).strip()
    if _NUMERIC_CODE.fullmatch(text):
        return ".".join(str(int(part)) for part in text.split("."))
    return text


def split_codes(value: str) -> list[str]:
    """Split a cell holding one or more codes (``1.1|5.6``, ``1.1; 5.6``) into normalised codes."""
    if value is None:
        return []
    parts = re.split(r"[|;]", str(value))
    return [normalize_code(p) for p in parts if p.strip()]


def content_hash(*fields: object) -> str:
    """A fingerprint of a record's text fields (title, abstract, keywords): Unicode-normalised,
    case- and whitespace-insensitive, so an exact re-export of the same record gets the same one."""
    parts = [_SPACES.sub(" ", unicodedata.normalize("NFKC", "" if f is None else str(f)).casefold()).strip()
             for f in fields]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]
