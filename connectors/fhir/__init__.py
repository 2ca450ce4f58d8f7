"""FHIR R4 at the edge: a transaction Bundle in (validated with fhir.resources' R4B models plus our code checks),
read/search of our record out, errors as OperationOutcome."""
