"""ncpeh-gateway: a National Contact Point for eHealth (cross-border patient summaries).

The package imports nothing at package level (``import gateway.config`` does not build the web app):
the application factory is :func:`gateway.app.create_app`, the command line :mod:`gateway.cli`.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
