"""HL7 v2 inbound (python-hl7): ADT A01/A03/A04/A08, ORU^R01 and REF^I12 into the record, over HTTP and MLLP, with ACKs."""
