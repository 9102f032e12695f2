"""The experiments layer: sweeps (grid plans, executors, summaries) and their SQLite store."""
