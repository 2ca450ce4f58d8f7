"""Remote consultation (远程会诊, wave2 §2): agreement, consent, invitation, expert assignment, opinions, report."""
