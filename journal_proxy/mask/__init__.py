"""Masking: secrets hidden before any format (built-in shapes, keys across entries, operator patterns)."""
