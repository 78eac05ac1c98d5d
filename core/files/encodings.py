"""Opening a record file (a path or an upload's bytes) and finding its text encoding."""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import BinaryIO

from core.errors import InputFileError, Problem

Source = str | Path | bytes


def _open(source: Source) -> BinaryIO:
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(source)
    try:
        return open(source, "rb")
    except OSError as exc:
        raise InputFileError(f"cannot open '{source}': {exc.strerror}") from None


def _size(source: Source) -> int:
    if isinstance(source, (bytes, bytearray)):
        return len(source)
    return Path(source).stat().st_size


# ---------------------------------------------------------------------------------- encoding
def _letter_score(text: str) -> int:
    return sum(ch.isalpha() for ch in text) - 3 * sum(not ch.isprintable() and ch not in "\r\n\t" for ch in text)


def detect_encoding(source: Source) -> str:
    """UTF-16 or UTF-32 when the file starts with their byte-order mark; UTF-8 (with or without
    BOM) when the whole file decodes as UTF-8; otherwise cp1250 or
    ISO-8859-2, whichever reads as more letters (bytes 0x80-0x9f are letters only in cp1250)."""
    with _open(source) as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: a longer BOM
            return "utf-32"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        sample = b""
        try:
            while block := fh.read(1 << 20):
                if len(sample) < (1 << 20):
                    sample += block[: (1 << 20) - len(sample)]
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    if not sample:
        with _open(source) as fh:
            sample = fh.read(1 << 20)
    high = [b for b in sample if b >= 0x80]
    if any(0x80 <= b <= 0x9F for b in high):
        return "cp1250"
    cp = sample.decode("cp1250", errors="replace")
    iso = sample.decode("iso-8859-2", errors="replace")
    return "iso-8859-2" if _letter_score(iso) > _letter_score(cp) else "cp1250"


def _check_decodes(source: Source, name: str, encoding: str) -> None:
    """Fail early, naming the line, if the file does not decode in the chosen encoding."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with _open(source) as fh:
        while block := fh.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                bad_line = line + block[: exc.start].count(b"\n")
                raise InputFileError(
                    f"'{name}' is not valid {encoding}: undecodable byte 0x{block[exc.start]:02x} on line "
                    f"{bad_line}. Choose the file's encoding (for Hungarian exports from Windows: cp1250).",
                    [Problem(f"undecodable byte 0x{block[exc.start]:02x}", bad_line)],
                ) from None
            line += block.count(b"\n")
