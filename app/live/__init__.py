"""Live rooms of a real-time activity (a remote consult): the bedside monitor's vitals streamed to the participants
with alarms at configured thresholds, and the WebRTC video link for which the platform is the signalling server.

Other capabilities open and close a room for their own object (`services.open_room("consult", consult_id, ...)`);
docs/live.md describes the design (streams, topology, signalling, configuration)."""
