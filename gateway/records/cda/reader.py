"""Safe reading of CDA R2 XML: no DTD, no entities, no network, bounded size and depth.

Parsing goes through ``defusedxml`` (expat underneath): any DOCTYPE is refused before an entity can
be declared, so neither external entities (XXE), external DTDs nor entity expansion bombs are ever
resolved or fetched. Problems are reported as :class:`CdaError` with an XPath and a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"h": HL7, "pharm": "urn:ihe:pharm:medication"}
MAX_CDA_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64


class CdaError(ValueError):
    """A CDA document that is refused; ``problems`` lists (XPath, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


def looks_like_xml(raw: bytes) -> bool:
    """True when the bytes start (after a BOM and blanks) with ``<``: the import routes them here."""
    head = raw[:64].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<") or head.startswith(b"\xff\xfe<") or head.startswith(b"\xfe\xff\x00<")


def parse_cda(raw: bytes) -> Element:
    """The ``ClinicalDocument`` root of ``raw``, or :class:`CdaError` (never a partial tree)."""
    if len(raw) > MAX_CDA_BYTES:
        raise CdaError([("/", f"document is too large: {len(raw)} bytes, the limit is {MAX_CDA_BYTES} bytes")])
    if not raw.strip():
        raise CdaError([("/", "document is empty")])
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden:
        raise CdaError([("/", "refused: the document declares a DOCTYPE (DTDs and entities are not allowed in a"
                              " CDA document; nothing it references was read)")]) from None
    except (EntitiesForbidden, ExternalReferenceForbidden, DefusedXmlException):
        raise CdaError([("/", "refused: the document declares entities or external references"
                              " (nothing they reference was read)")]) from None
    except ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        if "encoding" in reason or "invalid token" in reason:
            reason += " (not in the encoding it declares?)"
        elif "no element found" in reason or "unclosed token" in reason:
            reason += " (the document is truncated?)"
        raise CdaError([("/", f"not well-formed XML at line {line}, column {column + 1}: {reason}")]) from None
    _check_depth(root)
    if root.tag != f"{{{HL7}}}ClinicalDocument":
        raise CdaError([(f"/{local(root.tag)}", "not a CDA document: the root element must be"
                                               " ClinicalDocument in namespace urn:hl7-org:v3")])
    return root


def _check_depth(root: Element) -> None:
    stack: list[tuple[Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CdaError([("/", f"document is nested deeper than {MAX_DEPTH} elements")])
        stack.extend((child, depth + 1) for child in element)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class Paths:
    """XPaths of elements (``/ClinicalDocument/component/structuredBody/component[3]/section``)."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self._parent: dict[int, Element] | None = None

    def _parents(self) -> dict[int, Element]:
        if self._parent is None:
            self._parent = {id(child): parent for parent in self.root.iter() for child in parent}
        return self._parent

    def of(self, element: Element) -> str:
        steps: list[str] = []
        parents = self._parents()
        node = element
        while True:
            parent = parents.get(id(node))
            name = local(node.tag)
            if parent is None:
                steps.append(name)
                break
            same = [c for c in parent if c.tag == node.tag]
            steps.append(name if len(same) == 1 else f"{name}[{same.index(node) + 1}]")
            node = parent
        return "/" + "/".join(reversed(steps))


def find(element: Element | None, path: str) -> Element | None:
    return None if element is None else element.find(path, NS)


def findall(element: Element | None, path: str) -> list[Element]:
    return [] if element is None else element.findall(path, NS)


def attr(element: Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = element.get(name)
    return value.strip() if value and value.strip() else None


def text_of(element: Element | None) -> str:
    """The element's text content, whitespace collapsed."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def xsi_type(element: Element) -> str | None:
    value = element.get(f"{{{XSI}}}type")
    return value.split(":")[-1] if value else None


def iter_children(element: Element, name: str) -> Iterator[Element]:
    yield from element.findall(f"h:{name}", NS)
