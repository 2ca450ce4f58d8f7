"""Integration plumbing shared by webhooks and connectors: the inbound event store (every delivery, stored first),
the handler registry replay uses, per-client rate limits, and the integration screen API."""
