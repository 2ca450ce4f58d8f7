"""Health education: a content library tagged by disease, risk and topic; what was pushed to whom, and read."""
