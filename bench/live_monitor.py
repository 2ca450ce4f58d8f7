"""A simulated bedside monitor (issue 17.2): posts HR, SpO2, NIBP, RR and temperature as one FHIR transaction
Bundle of Observations every second to `POST /fhir`, as a monitor gateway would.

    python bench/live_monitor.py --base-url http://127.0.0.1:8000 --token TOKEN --patient 12 --device MON-DEMO-1
    python bench/live_monitor.py ... --desaturate-after 30     # SpO2 drifts to 86-88 % after 30 s (alarm banner)

The token is an integration client's bearer token (`ygt create-client`, then a token for it; the demo seed prints
one). The device must be bound to an open live room (`app.live.services.open_room(..., device_ids=[...])`) for
the readings to appear in that room; a closed room's device gets 403 and the simulator stops.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

CODES = {"hr": ("8867-4", "/min"), "spo2": ("59408-5", "%"), "sbp": ("8480-6", "mm[Hg]"),
         "dbp": ("8462-4", "mm[Hg]"), "rr": ("9279-1", "/min"), "temp": ("8310-5", "Cel")}


def reading(t: float, rng: random.Random, desaturate: bool) -> dict[str, float]:
    """Plausible values with a slow breathing-like wave and noise; SpO2 86-88 % once `desaturate`."""
    wave = math.sin(t / 20)
    return {"hr": round(82 + 6 * wave + rng.gauss(0, 1.5)), "spo2": round(87 + rng.random() * 1.5)
            if desaturate else round(96 + wave + rng.gauss(0, 0.4)),
            "sbp": round(128 + 5 * wave + rng.gauss(0, 2)), "dbp": round(80 + 3 * wave + rng.gauss(0, 1.5)),
            "rr": round(17 + wave + rng.gauss(0, 0.5)), "temp": round(36.8 + rng.gauss(0, 0.05), 1)}


def bundle(patient: int, device: str, values: dict[str, float], at: datetime, n: int) -> dict:
    key = f"{device}-{at.strftime('%Y%m%d%H%M%S')}-{n}"
    return {"resourceType": "Bundle", "type": "transaction", "id": key, "entry": [
        {"fullUrl": f"urn:uuid:{key}-{ch}", "request": {"method": "POST", "url": "Observation"},
         "resource": {"resourceType": "Observation", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": CODES[ch][0]}]},
                      "subject": {"reference": f"Patient/{patient}"}, "device": {"reference": f"Device/{device}"},
                      "effectiveDateTime": at.isoformat(timespec="seconds"),
                      "valueQuantity": {"value": value, "unit": CODES[ch][1], "system": "http://unitsofmeasure.org"}}}
        for ch, value in values.items()]}


def post(base_url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base_url.rstrip('/')}/fhir", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/fhir+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--patient", type=int, required=True, help="the resident id (FHIR Patient/<id>)")
    parser.add_argument("--device", default="MON-DEMO-1")
    parser.add_argument("--seconds", type=int, default=0, help="stop after this many seconds (0: run until ^C)")
    parser.add_argument("--desaturate-after", type=int, default=-1, help="SpO2 falls below 90 after N seconds")
    args = parser.parse_args(argv)
    rng, n, start = random.Random(7), 0, time.monotonic()
    while not args.seconds or n < args.seconds:
        values = reading(time.monotonic() - start, rng, 0 <= args.desaturate_after <= n)
        status, body = post(args.base_url, args.token, bundle(args.patient, args.device, values, datetime.now(UTC), n))
        print(status, " ".join(f"{k}={v}" for k, v in values.items()), flush=True)
        if status == 403:
            print("room closed: stopping", (body.get("issue") or [{}])[0].get("diagnostics", ""), file=sys.stderr)
            return 1
        n += 1
        time.sleep(max(0.0, start + n - time.monotonic()))     # one Bundle a second
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
