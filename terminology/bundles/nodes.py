"""What transcoding and translation share: which nodes are codings, what is skipped, how extensions are set."""

from __future__ import annotations

from typing import Any

from ..systems import EXT_NARRATIVE_LANGUAGE, EXT_TRANSLATION, EXT_TRANSLATION_FALLBACK, NCPEH_SD

#: extensions this library writes (skipped when walking a Bundle again)
OWN_EXT = (NCPEH_SD, EXT_TRANSLATION, EXT_NARRATIVE_LANGUAGE)
#: elements never walked into
SKIP_KEYS = frozenset({"div", "resourceType", "id", "fullUrl", "reference", "url"})


def is_coding(node: dict[str, Any]) -> bool:
    """A Coding: string ``system`` and ``code``, no ``value`` (which would make it a Quantity)."""
    return isinstance(node.get("code"), str) and isinstance(node.get("system"), str) and "value" not in node


def set_ext(holder: dict[str, Any], url: str, value_key: str, value: Any) -> None:
    """Set the extension ``url`` of ``holder`` to ``value`` (replacing its value if present)."""
    exts = holder.setdefault("extension", [])
    for ext in exts:
        if ext.get("url") == url:
            ext.pop("valueBoolean", None)
            ext.pop("valueCode", None)
            ext[value_key] = value
            return
    exts.append({"url": url, value_key: value})


def add_translation(
    owner: dict[str, Any], key: str, lang: str, text: str, used: str | None, requested: str
) -> None:
    """Add/replace the translation extension for ``requested`` on the primitive ``owner[key]``."""
    holder = owner.get(f"_{key}")
    if not isinstance(holder, dict):
        holder = owner[f"_{key}"] = {}
    exts = holder.setdefault("extension", [])
    parts: list[dict[str, Any]] = [{"url": "lang", "valueCode": used if used and used != requested else lang},
                                   {"url": "content", "valueString": text}]
    if used != requested:
        parts.append({"url": EXT_TRANSLATION_FALLBACK, "valueCode": requested})
    new = {"url": EXT_TRANSLATION, "extension": parts}
    for i, ext in enumerate(exts):
        if ext.get("url") == EXT_TRANSLATION and _requested_lang(ext) == requested:
            exts[i] = new
            return
    exts.append(new)


def _requested_lang(ext: dict[str, Any]) -> str | None:
    """The language a translation extension was asked for (its fallback flag, else its ``lang``)."""
    lang = None
    for sub in ext.get("extension", ()):
        if sub.get("url") == EXT_TRANSLATION_FALLBACK:
            return sub.get("valueCode")
        if sub.get("url") == "lang":
            lang = sub.get("valueCode")
    return lang
