"""Anticoagulant monitoring (wave2 §3.2): one `anticoag_monitoring` episode per patient and anticoagulant, started
when a supervised prescription passes pre-review; INR/renal/platelet checks scheduled by `monitoring_plan` (R7),
warfarin dose actions from `warfarin_inr` (T14), renal re-checks of DOAC/LMWH and TTR (Rosendaal)."""
