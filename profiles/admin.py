"""Operator console for profiles."""
