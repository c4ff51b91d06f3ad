"""Operator console for experiments."""
