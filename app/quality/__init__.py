"""Quality control (质控): an indicator library kept as data (`indicators/*.json`), computed over read-side
projections of the platform's tables for a period and an organisation subtree, with thresholds per year, breakdowns,
monthly trends, drill-down lists, xlsx export and threshold alerts to supervisors (docs/quality.md)."""
