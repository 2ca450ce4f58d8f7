"""Care plans (个体化管理方案): drafted at the county (or township, low risk), approved, issued, acknowledged; versioned."""

