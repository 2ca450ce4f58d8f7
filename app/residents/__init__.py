"""Resident registry (master person index) and, from issue 5 on, the health record."""
