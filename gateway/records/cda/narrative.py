"""CDA section narrative (``<text>``) -> FHIR XHTML ``div``, and the narrative's ``ID`` -> text index.

The output uses only p, table, thead, tbody, tr, td, th, ul, li, br, b, i and span, with no attribute
other than the XHTML namespace on the div; every text is escaped. Links are kept as their text, and a
multimedia reference becomes a short note (the object stays in the original document).
"""

from __future__ import annotations

from html import escape
from xml.etree.ElementTree import Element

from gateway.records.cda.reader import local

XHTML_DIV = '<div xmlns="http://www.w3.org/1999/xhtml">'
_SAME = {"table": "table", "thead": "thead", "tbody": "tbody", "tfoot": "tbody", "tr": "tr", "td": "td", "th": "th",
         "br": "br", "paragraph": "p", "list": "ul", "item": "li"}
_INLINE = {"content", "sub", "sup", "linkHtml", "footnote", "footnoteRef", "caption", "col", "colgroup"}
ATTACHMENT_NOTE = "[pièce jointe : voir le document original]"


def ids_index(text: Element | None) -> dict[str, str]:
    """Text of every narrative element carrying an ``ID`` (what entries reference as ``#id``)."""
    if text is None:
        return {}
    return {el.get("ID", ""): " ".join("".join(el.itertext()).split()) for el in text.iter() if el.get("ID")}


def to_xhtml(text: Element | None, fallback: str) -> str:
    """The narrative as an XHTML div (``fallback``, escaped, when the section has no narrative)."""
    if text is None or not ("".join(text.itertext()).strip() or len(text)):
        return f"{XHTML_DIV}<p>{escape(fallback)}</p></div>"
    parts: list[str] = [XHTML_DIV]
    if text.text and text.text.strip():
        parts.append(f"<p>{escape(' '.join(text.text.split()))}</p>")
    for child in text:
        _render(child, parts, block=True)
        if child.tail and child.tail.strip():
            parts.append(f"<p>{escape(' '.join(child.tail.split()))}</p>")
    parts.append("</div>")
    return "".join(parts)


def _render(element: Element, parts: list[str], block: bool) -> None:
    name = local(element.tag)
    if name == "renderMultiMedia":
        parts.append(f"<span>{escape(ATTACHMENT_NOTE)}</span>")
        return
    if name == "br":
        parts.append("<br/>")
        return
    if name in _SAME:
        tag = _SAME[name]
    elif name == "content" and "bold" in (element.get("styleCode") or "").lower():
        tag = "b"
    elif name == "content" and "italics" in (element.get("styleCode") or "").lower():
        tag = "i"
    elif name == "caption" and block:
        tag = "p"
    else:
        tag = "p" if block and name not in _INLINE else "span"
    children = list(element)
    if tag == "table":  # a caption may not sit inside this narrower XHTML table: it goes before it
        for caption in (c for c in children if local(c.tag) == "caption"):
            parts.append(f"<p><b>{escape(' '.join(''.join(caption.itertext()).split()))}</b></p>")
        children = [c for c in children if local(c.tag) != "caption"]
    parts.append(f"<{tag}>")
    if element.text and element.text.strip():
        parts.append(escape(_squeeze(element.text)))
    for child in children:
        _render(child, parts, block=False)
        if child.tail and child.tail.strip():
            parts.append(escape(_squeeze(child.tail)))
    parts.append(f"</{tag}>")


def _squeeze(text: str) -> str:
    """Runs of white space as one space (CDA narrative has no preformatted text), ends kept as a space."""
    inner = " ".join(text.split())
    return (" " if text[:1].isspace() else "") + inner + (" " if text[-1:].isspace() else "")
