"""Test setup for gateway.records.

The records modules import nothing from the rest of ``gateway``; should the package's
``__init__`` be broken while it is being written, register a bare package so that
``gateway.records.*`` still imports.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
try:
    importlib.import_module("gateway")
except Exception:  # pragma: no cover - only while gateway/__init__.py is broken
    stub = types.ModuleType("gateway")
    stub.__path__ = [str(ROOT / "gateway")]
    sys.modules["gateway"] = stub


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
