from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import terminology
import terminology.systems
from terminology.samples import sample_bundle

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def term() -> terminology.Terminology:
    return terminology.load()


@pytest.fixture(scope="session")
def _fr_bundle() -> dict[str, Any]:
    return sample_bundle("FR", 180)


@pytest.fixture()
def fr_bundle(_fr_bundle: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(_fr_bundle)


@pytest.fixture()
def de_bundle() -> dict[str, Any]:
    return sample_bundle("DE", 90)


@pytest.fixture()
def ips_bundle() -> dict[str, Any]:
    return json.loads((FIXTURES / "ips-bundle-minimal.json").read_text(encoding="utf-8"))


def resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def translation(element: dict[str, Any], key: str) -> dict[str, Any] | None:
    """{'lang':…, 'content':…, 'fallback': requested|None} of the last translation extension on _key."""
    holder = element.get(f"_{key}") or {}
    found = None
    for ext in holder.get("extension", ()):
        if ext["url"] == terminology.systems.EXT_TRANSLATION:
            parts = {p["url"]: p.get("valueCode", p.get("valueString")) for p in ext["extension"]}
            found = {"lang": parts["lang"], "content": parts["content"],
                     "fallback": parts.get(terminology.systems.EXT_TRANSLATION_FALLBACK)}
    return found


def walk_codings(node: Any):
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and isinstance(node.get("code"), str) and "value" not in node:
            yield node
        for key, value in node.items():
            if not key.startswith("_") and key != "extension":
                yield from walk_codings(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk_codings(item)
