"""ncpeh-gateway: a National Contact Point for eHealth (cross-border patient summaries)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "create_app"]


def create_app(config, surface: str = "public"):  # noqa: ANN001 - re-exported factory
    """Build the Flask application of one country for one listener ("public" or "ncp")."""
    from gateway.app import create_app as _create_app

    return _create_app(config, surface)
