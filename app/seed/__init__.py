"""The demo county (`ygt seed-demo`): organizations, staff in every role and synthetic residents."""
