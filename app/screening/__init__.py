"""Population screening: rules flag residents (batch or on new data), townships verify, residents are enrolled."""
