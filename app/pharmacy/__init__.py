"""Pharmacy: supervised-drug prescriptions from the HIS, their automatic checks (DMN pack), the pharmacist's
pre-review (`rx_prereview`) and the trace of each prescription's states (wave2 §3.1)."""
