"""The clinical decision pack as an API: list decisions, evaluate with trace, run conformance cases."""
