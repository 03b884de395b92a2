"""Security tests: what must never leak, checked on full runs."""
