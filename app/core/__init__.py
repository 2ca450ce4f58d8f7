"""Cross-cutting mechanisms: database sessions, typed errors, time, logging. Nothing domain-specific."""
