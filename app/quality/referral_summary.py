"""转诊对账 (issue 20.6): the referrals and transfers the HIS, the public-health platform and the insurance platform
reported, summarised beside the network's own two-way referrals for an organisation over the last months.

A reported referral matches a network referral of the same resident, the same direction, dated within
`MATCH_DAYS` days of it (the network's request date); each network referral matches at most one report of each
source, earliest first. Counts only here; the unmatched lists name residents and are read through `unmatched`
(audited by the route)."""
from __future__ import annotations

from datetime import date
from typing import Any

from app.auth.principal import Principal
from app.core.errors import Invalid
from app.org import queries as org_queries
from app.referral import reported as referrals

from . import queries

MATCH_DAYS = 2
SIDES = ("reported", "network")


def _months(period: str, months: int) -> tuple[list[str], date, date]:
    end = queries.month_end(period)
    periods = queries.previous_periods(period, months)
    return periods, date(int(periods[0][:4]), int(periods[0][5:]), 1), end


def match(reported: list[dict], network: list[dict]) -> None:
    """Mark each reported row with the network referral it matches (`matched_key`) and each network row with the
    sources that reported it (`reported_by`)."""
    for n in network:
        n["reported_by"] = []
    by_person: dict[tuple[int, str], list[dict]] = {}
    for n in network:
        by_person.setdefault((n["resident_id"], n["direction"]), []).append(n)
    for r in sorted(reported, key=lambda x: (x["on"], x["id"])):
        r["matched_key"] = None
        for n in by_person.get((r["resident_id"], r["direction"]), []):
            if abs((n["on"] - r["on"]).days) <= MATCH_DAYS and r["source"] not in n["reported_by"]:
                n["reported_by"].append(r["source"])
                r["matched_key"] = n["key"]
                break


def _load(p: Principal, period: str | None, org_code: str | None, months: int):
    org, period = queries.resolve_org(p, org_code), period or queries.current_period()
    periods, start, end = _months(period, months)
    reported = referrals.reported_rows(org.path, start, end)
    network = referrals.network_rows(org.path, start, end)
    match(reported, network)
    return org, period, periods, reported, network


def _counts(reported: list[dict], network: list[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {f"network_{d}": sum(1 for n in network if n["direction"] == d) for d in ("up", "down")}
    for source in referrals.SOURCES:
        mine = [r for r in reported if r["source"] == source]
        out[source] = {"up": sum(1 for r in mine if r["direction"] == "up"),
                       "down": sum(1 for r in mine if r["direction"] == "down"),
                       "matched": sum(1 for r in mine if r["matched_key"])}
    out["reported"] = len(reported)
    out["matched"] = sum(1 for r in reported if r["matched_key"])
    out["unmatched_reported"] = out["reported"] - out["matched"]
    out["unmatched_network"] = sum(1 for n in network if not n["reported_by"])
    return out


def summary(p: Principal, *, period: str | None = None, org_code: str | None = None,
            months: int = 6) -> dict[str, Any]:
    """Counts per month and per child organisation of both kinds of referral, and how many match."""
    org, period, periods, reported, network = _load(p, period, org_code, months)
    children = org_queries.children(org.code, exclude_levels=("department",))
    child = queries._child_of(children)
    by_month = [{"period": m, **_counts([r for r in reported if r["on"].strftime("%Y-%m") == m],
                                        [n for n in network if n["on"].strftime("%Y-%m") == m])} for m in periods]
    by_org = []
    for code, name in [(c.code, c.name) for c in children] + [(queries.SELF, f"{org.name} (本级)")]:
        rs, ns = [r for r in reported if child(r) == code], [n for n in network if child(n) == code]
        if rs or ns or code != queries.SELF:
            by_org.append({"key": code, "label": name, "org_code": None if code == queries.SELF else code,
                           **_counts(rs, ns)})
    return {"period": period, "months": months, "from_period": periods[0], "match_days": MATCH_DAYS,
            "org": {"code": org.code, "name": org.name, "level": org.level},
            "sources": [{"code": k, "label": v} for k, v in referrals.SOURCES.items()],
            "totals": _counts(reported, network), "by_month": by_month, "by_org": by_org}


def unmatched(p: Principal, *, side: str = "reported", source: str | None = None, period: str | None = None,
              org_code: str | None = None, months: int = 6, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """The reported referrals no network referral matches (`side=reported`, optionally of one source), or the
    network referrals no source reported (`side=network`)."""
    if side not in SIDES:
        raise Invalid("side 应为 reported/network", code="invalid_side", field="side", value=side)
    org, period, _periods, reported, network = _load(p, period, org_code, months)
    if side == "reported":
        rows = [r for r in reported if not r["matched_key"] and source in (None, r["source"])]
    else:
        rows = [n for n in network if not n["reported_by"]]
    names = queries._org_names({r.get("from_org_code") for r in rows} | {r.get("to_org_code") for r in rows})
    items = [{"key": r["key"], "side": side, "source": r.get("source"),
              "source_label": referrals.SOURCES.get(r.get("source") or "", "医共体平台"),
              "source_id": r.get("source_id"), "referral_no": r.get("referral_no"), "direction": r["direction"],
              "direction_label": "上转" if r["direction"] == "up" else "下转", "on": r["on"],
              "resident_id": r["resident_id"], "resident_name": r.get("resident_name"),
              "from_name": names.get(r.get("from_org_code") or "") or r.get("from_hospital"),
              "to_name": names.get(r.get("to_org_code") or "") or r.get("to_hospital")} for r in rows]
    return {"period": period, "months": months, "side": side, "source": source,
            "org": {"code": org.code, "name": org.name, "level": org.level}, "total": len(items),
            "items": items[(page - 1) * per_page: page * per_page]}
