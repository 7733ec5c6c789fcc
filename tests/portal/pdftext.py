"""Just enough of a PDF reader to get the text of fpdf2's output back (no PDF library is a dependency).

fpdf2 embeds TrueType fonts as Type0/Identity-H with a ToUnicode CMap and writes text with ``Tj``
(2-byte glyph ids in literal strings): the text is the glyph ids mapped through that CMap, per font.
"""

from __future__ import annotations

import re
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*)\r?\nendstream", re.S)
_STRINGS = re.compile(rb"\(((?:\\.|[^\\)])*)\)", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    out: dict[int, tuple[bytes, bytes | None]] = {}
    for match in _OBJ.finditer(data):
        body = match.group(2)
        stream = _STREAM.search(body)
        content = None
        if stream:
            content = stream.group(1)
            if b"/FlateDecode" in body[: stream.start()]:
                content = zlib.decompress(content)
            body = body[: stream.start()]
        out[int(match.group(1))] = (body, content)
    return out


def _cmap(stream: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def _literal(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        ch = raw[i : i + 1]
        if ch == b"\\":
            nxt = raw[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8) & 0xFF)
                i += 1 + len(octal.group(0))
                continue
            out += _ESCAPES.get(nxt, nxt)
            i += 2
            continue
        out += ch
        i += 1
    return bytes(out)


def extract_text(data: bytes) -> str:
    """The text of every page, in drawing order, one line per text object."""
    objects = _objects(data)
    fonts: dict[int, dict[int, str]] = {}
    for number, (body, _stream) in objects.items():
        match = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if b"/Type /Font" in body and match:
            fonts[number] = _cmap(objects[int(match.group(1))][1] or b"")
    lines: list[str] = []
    for body, _stream in objects.values():
        if not re.search(rb"/Type /Page\b", body):
            continue
        resources = re.search(rb"/Resources (\d+) 0 R", body)
        res_body = objects[int(resources.group(1))][0] if resources else body
        names = {name: int(ref) for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", res_body)}
        contents = re.search(rb"/Contents (\d+) 0 R", body)
        content = objects[int(contents.group(1))][1] or b"" if contents else b""
        current: dict[int, str] = {}
        for match in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj|\[((?:\\.|[^\\\]])*)\] TJ", content, re.S):
            if match.group(1):
                current = fonts.get(names.get(match.group(1), -1), {})
                continue
            strings = [match.group(2)] if match.group(2) is not None else _STRINGS.findall(match.group(3))
            line = ""
            for string in strings:
                raw = _literal(string)
                line += "".join(current.get(int.from_bytes(raw[i : i + 2], "big"), "\ufffd")
                                for i in range(0, len(raw) - 1, 2))
            lines.append(line)
    return "\n".join(lines)
