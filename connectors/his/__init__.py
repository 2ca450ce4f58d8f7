"""The hospital information system (HIS): review results of supervised-drug prescriptions go back to it."""
