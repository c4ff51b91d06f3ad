"""The Big Five assessment: the IPIP-NEO-120 inventory, Johnson's norms, scoring and insights.

Pure Python, no database: ``inventory`` (items and key), ``norms`` (norm table and
percentile rule), ``scoring`` (answers -> scores JSON) and ``insights`` (scores ->
personal text). The submit workflow that stores results is ``engagement.services``.
"""
