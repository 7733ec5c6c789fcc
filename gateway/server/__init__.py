"""Serving: gunicorn listeners (one process group per listener) and the local multi-country demo."""
