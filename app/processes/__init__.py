"""Process definitions and instances: deploy, versions, status, history, suspend/resume/terminate, retry."""
