"""Operator console for rewards."""
