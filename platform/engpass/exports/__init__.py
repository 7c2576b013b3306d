"""Exports: the cycle table as CSV and Excel, the printable business case, and an organization's data as a ZIP.

See docs/exports.md.
"""
