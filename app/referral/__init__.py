"""Two-way referral (双向转诊): up to the county (or out of county) and back down with a plan.

One `referral_up` or `referral_down` instance per referral; the `referrals` row is the business record every view,
document and indicator reads (kept current by the processes' service tasks, so statistics are live).
"""
