"""Engpass: improvement cycles, one bottleneck at a time."""

from engpass.app import create_app

__all__ = ["create_app"]
