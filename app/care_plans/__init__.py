"""Care plans (个体化管理方案): drafted at the county (or township, low risk), approved, issued, acknowledged; versioned."""

from . import safety as _safety  # noqa: F401  (registers the care_plan_regimen submission check)
