"""Follow-up (随访): the long-lived schedule per resident and disease, one short `follow_up` instance per cycle."""
