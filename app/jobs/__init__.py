"""Background jobs: `enqueue()` runs on rq in production and in-process in the embedded default."""
