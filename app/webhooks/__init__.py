"""Signed inbound webhooks: start a process by message or correlate a message into a waiting instance."""
