"""Evaluators, one per task type, and per-sample metrics. Knows nothing of storage or the CLI."""
