"""The version this instance reports (``/_status``, the CapabilityStatement, the OpenAPI description)."""

from __future__ import annotations

import os

from gateway import __version__


def version() -> str:
    """The package version, or ``NCPEH_VERSION`` when the deployment names its build (containers)."""
    return os.environ.get("NCPEH_VERSION", __version__)
