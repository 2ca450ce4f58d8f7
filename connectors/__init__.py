"""Connectors to external systems, one subpackage each (hl7v2, fhir, notify, public_health, insurance).

Each has a transport that tests replace with a local fake server, never a stubbed function.
"""
