"""Imports: a cycle's measurements from a CSV file or an Excel workbook. See docs/imports.md."""
