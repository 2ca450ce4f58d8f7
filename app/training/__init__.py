"""Staff training (业务培训): annual plans → one `training_session` process per session, QR + geofence sign-in,
materials, exams with item analysis, 学时/学分 by the R8 rules, summaries and indicators (wave2 §5)."""
