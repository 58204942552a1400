"""Measurements -> comparisons -> rankings with uncertainty and diagnostics. No I/O."""
