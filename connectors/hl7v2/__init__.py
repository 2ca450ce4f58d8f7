"""HL7 v2 inbound (python-hl7): ADT A01/A04/A08 and ORU^R01 into the record, over HTTP and MLLP, with ACKs."""
