"""Experiments: A/B tests, variants, assignment, exposures, conversions, attribution."""
