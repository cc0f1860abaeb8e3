"""Capture workbooks: comments collected offline at regional sessions, typed into a spreadsheet, imported."""
