"""Rulesets by year (only ``lac2024_25`` here)."""
