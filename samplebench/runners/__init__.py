"""Model adapters, batching, caching, resume and executors: tasks x models -> results store."""
