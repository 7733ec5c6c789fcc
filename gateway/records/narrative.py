"""FHIR narratives (``text.div``): the rules for documents stored here, and the sanitiser for foreign ones.

* :func:`violations` checks FHIR's narrative invariants on a parsed ``div``: txt-1 (only the basic HTML
  formatting elements and attributes: no script, no event attributes, no iframe/object/embed/form, no
  ``javascript:`` URLs, styles from an allow-list of formatting properties and plain values) and txt-2
  (some non-whitespace content); :func:`markup_violations` checks the string for CDATA sections,
  comments, processing instructions and DOCTYPEs (an HTML parser reads them otherwise). Country A refuses
  a document at import when one of its narratives breaks them.
* :func:`sanitise` is the one allow-list sanitiser (``nh3``) for narratives of foreign documents: the
  portal renders its output, and country B applies :func:`sanitise_document` to every foreign document
  before any surface returns it (partner software may render narratives as HTML).
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

import nh3

XHTML_NS = "http://www.w3.org/1999/xhtml"
_XML_NS = "http://www.w3.org/XML/1998/namespace"

# --- txt-1 / txt-2: what a narrative stored here may contain ------------------------------------------

#: Elements FHIR allows in narratives (HTML 4.0 chapters 7-11 and 15, a, img; as the FHIR validator has them).
FHIR_ELEMENTS = frozenset({
    "a", "abbr", "acronym", "b", "big", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "dfn", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre",
    "q", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "tt", "ul", "var",
})
#: Attributes FHIR allows in narratives (no event handlers).
FHIR_ATTRIBUTES = frozenset({
    "abbr", "accesskey", "align", "alt", "axis", "bgcolor", "border", "cellhalign", "cellpadding", "cellspacing",
    "cellvalign", "char", "charoff", "charset", "cite", "class", "colspan", "compact", "coords", "dir", "frame",
    "headers", "height", "href", "hreflang", "hspace", "id", "lang", "longdesc", "name", "nowrap", "rel", "rev",
    "rowspan", "rules", "scope", "shape", "span", "src", "start", "style", "summary", "tabindex", "title", "type",
    "valign", "value", "vspace", "width",
})
_URL_ATTRIBUTES = frozenset({"href", "src", "cite", "longdesc"})
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel", "urn"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")  # browsers ignore these inside a scheme ('java\tscript:')
#: CSS properties a narrative's ``style`` may set (formatting only: nothing that loads content or covers the page).
STYLE_PROPERTIES = frozenset({
    "background", "background-color", "border", "border-collapse", "border-color", "border-radius",
    "border-spacing", "border-style", "border-width", "caption-side", "clear", "color", "display", "empty-cells",
    "float", "font", "font-family", "font-size", "font-style", "font-variant", "font-weight", "height",
    "letter-spacing", "line-height", "list-style-position", "list-style-type", "margin", "max-height",
    "max-width", "min-height", "min-width", "overflow-wrap", "padding", "page-break-after", "page-break-before",
    "page-break-inside", "table-layout", "text-align", "text-decoration", "text-indent", "text-transform",
    "vertical-align", "visibility", "white-space", "width", "word-break", "word-spacing", "word-wrap",
    *(f"{box}-{side}" for box in ("border", "margin", "padding") for side in ("top", "right", "bottom", "left")),
    *(f"border-{side}-{what}" for side in ("top", "right", "bottom", "left") for what in ("color", "style", "width")),
})
#: A style value: words, numbers, units, colours, quoted font names. No backslash (CSS escapes), colon, '@',
#: '/' or parenthesis (url(), image-set(), expression()...) but in rgb()/hsl() colours of numbers.
_STYLE_VALUE = re.compile(r"[A-Za-z0-9\s#%.,'\"!+-]*")
_STYLE_COLOUR = re.compile(r"\b(?:rgba?|hsla?)\([0-9\s.,%]*\)", re.IGNORECASE)
#: Markup an HTML parser reads otherwise than XML (it ends each at the first '>'): in a well-formed narrative
#: '<' is only ever markup, so '<!' and '<?' are exactly these.
_HIDDEN_MARKUP = (("<![CDATA[", "a CDATA section"), ("<!--", "a comment"), ("<?", "a processing instruction"),
                  ("<!", "a DOCTYPE or other declaration"))


def _local(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return None, name


def _url_allowed(value: str) -> bool:
    compact = _INVISIBLE.sub("", value)
    match = _SCHEME.match(compact)
    if match is None:
        return True  # relative, or a fragment ('#contained-image')
    return match.group(1).lower() in _SAFE_SCHEMES or bool(_IMAGE_DATA.match(compact))


def style_problem(style: str) -> str | None:
    """Why a ``style`` attribute may not be stored (None when every declaration is on the allow-list)."""
    for declaration in style.split(";"):
        if not declaration.strip():
            continue
        name, colon, value = declaration.partition(":")
        prop = name.strip().lower()
        if not colon or prop not in STYLE_PROPERTIES:
            return f"CSS property {prop[:40]!r} is not allowed in a narrative"
        if not _STYLE_VALUE.fullmatch(_STYLE_COLOUR.sub("", value)):
            return f"the value of CSS property {prop!r} may load or run content (only words, numbers and colours)"
    return None


def markup_violations(xhtml: str) -> list[str]:
    """CDATA sections, comments, processing instructions and DOCTYPEs in a narrative's text (txt-1): XML
    keeps their content as text, an HTML parser (partner software, a browser) ends them at the first '>' and
    builds the elements after it. Checked on the string, which is what is stored and relayed."""
    found, rest = [], xhtml
    for marker, what in _HIDDEN_MARKUP:
        if marker in rest:
            found.append(f"{what} ('{marker}') is not allowed in a narrative: an HTML parser reads it otherwise "
                         "than XML (txt-1)")
            rest = rest.replace(marker, "")
    return found


def violations(root: ElementTree.Element) -> list[str]:
    """What breaks txt-1 or txt-2 in a parsed narrative ``div`` (empty when it may be stored)."""
    found: list[str] = []
    for element in root.iter():
        ns, tag = _local(element.tag) if isinstance(element.tag, str) else (None, "?")
        if ns != XHTML_NS or tag not in FHIR_ELEMENTS:
            found.append(f"element <{tag}> is not allowed in a narrative (txt-1)")
            continue
        for name, value in element.attrib.items():
            attr_ns, attr = _local(name)
            if attr_ns == _XML_NS and attr == "lang":
                continue
            if attr_ns is not None or attr not in FHIR_ATTRIBUTES:
                found.append(f"attribute '{attr}' of <{tag}> is not allowed in a narrative (txt-1)")
            elif attr in _URL_ATTRIBUTES and not _url_allowed(value):
                found.append(f"attribute '{attr}' of <{tag}> has a URL scheme not allowed in a narrative (txt-1)")
            elif attr == "style" and (problem := style_problem(value)):
                found.append(f"attribute 'style' of <{tag}>: {problem} (txt-1)")
    has_image = any(_local(e.tag)[1] == "img" for e in root.iter() if isinstance(e.tag, str))
    if not "".join(root.itertext()).strip() and not has_image:
        found.append("narrative has no non-whitespace content (txt-2)")
    return list(dict.fromkeys(found))  # each problem once, in document order


# --- sanitising foreign narratives (one allow-list, for every surface) ---------------------------------

NARRATIVE_TAGS = {"div", "p", "br", "span", "b", "strong", "i", "em", "u", "sub", "sup", "small", "ul", "ol", "li",
                  "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col", "h4", "h5",
                  "h6", "pre", "code", "dl", "dt", "dd", "hr"}
NARRATIVE_ATTRIBUTES = {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}}
_VOID = re.compile(r"<(br|hr|col)>")
_PLACEHOLDER = "(narrative removed: it held no displayable text)"


def sanitise(xhtml: str) -> str:
    """Untrusted XHTML reduced to an allow-list of structural tags, without attributes but table spans.

    No scripts, styles, links, images, forms, event handlers or URLs survive; text is kept (escaped).
    """
    return nh3.clean(xhtml or "", tags=NARRATIVE_TAGS, attributes=NARRATIVE_ATTRIBUTES, url_schemes=set(),
                     strip_comments=True, link_rel=None, clean_content_tags={"script", "style"})


def sanitise_div(xhtml: str) -> str:
    """:func:`sanitise`, returned as a FHIR narrative: one ``<div xmlns=…>``, XHTML void elements,
    some text (txt-2)."""
    cleaned = _VOID.sub(r"<\1/>", sanitise(xhtml)).replace("&nbsp;", "&#160;")
    if cleaned.startswith("<div>") and cleaned.endswith("</div>") and cleaned.count("<div>") == 1:
        cleaned = cleaned[len("<div>"):-len("</div>")]
    if not re.sub(r"<[^>]*>", "", cleaned).strip():
        cleaned = f"<p>{_PLACEHOLDER}</p>"
    return f'<div xmlns="{XHTML_NS}">{cleaned}</div>'


def sanitise_document(document: Any, depth: int = 0) -> None:
    """Sanitise, in place, every narrative (``text.div``) of a foreign FHIR document: Composition.text,
    section texts, each resource's and each contained resource's. ValueError when nested too deeply
    to be walked (no narrative is left unsanitised)."""
    if depth > 64:
        raise ValueError("the document is nested too deeply")
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "text" and isinstance(value, dict) and "div" in value:
                value["div"] = sanitise_div(value["div"] if isinstance(value["div"], str) else "")
            else:
                sanitise_document(value, depth + 1)
    elif isinstance(document, list):
        for item in document:
            sanitise_document(item, depth + 1)
