"""The offline packet of a village of 300 residents stays under 5 MB (issue 22.1), a second pull with its token
is small, and paged by 100 it comes in three pages that add up to the same: generated data — each resident with an
open task, two diagnoses, two drugs and a year of readings."""
from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

from app.auth.principal import SYSTEM
from app.residents import idcard, intake
from app.residents import services as resident_services
from tests.mobile_support import Phone, village_task

RESIDENTS = 300
LIMIT = 5 * 1024 * 1024


def _village(app, n: int) -> None:
    rng = random.Random(22)
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "建国秀英桂兰志强海燕明华玉梅德胜春花文博"
    start = datetime(2025, 12, 1, 8, tzinfo=UTC)
    for i in range(n):
        born = date(1940 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28))
        sex = rng.choice("MF")
        name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
        with app.app_context():
            resident = resident_services.register_resident({
                "id_number": idcard.generate(rng, area_code="330127", birth_date=born, sex=sex), "name": name,
                "phone": f"138{rng.randrange(10**8):08d}", "address": f"青溪县石门镇上塘村{i % 12 + 1}组{i}号",
                "org_code": "C01T01V01"}, principal=SYSTEM)
            facts: list = [intake.ConditionFact(icd10="I10"), intake.ConditionFact(icd10="E11.9"),
                           intake.MedicationFact(drug="氨氯地平", dose="5mg", frequency="qd"),
                           intake.MedicationFact(drug="二甲双胍", dose="0.5g", frequency="bid")]
            for month in range(12):                       # a reading set each month for a year
                at = start + timedelta(days=30 * month)
                facts += [intake.ObservationFact("8480-6", 120 + rng.randrange(50), "mm[Hg]", at),
                          intake.ObservationFact("8462-4", 70 + rng.randrange(30), "mm[Hg]", at),
                          intake.ObservationFact("1558-6", round(5 + rng.random() * 5, 1), "mmol/L", at)]
            intake.submit(resident.id, facts, source="test", rescreen=False)
        village_task(app, {"id": resident.id, "name": name})


def test_a_village_of_300_fits_in_5_mb_and_the_next_pull_is_small(app, county, deploy_models, login_as):
    deploy_models("approval.bpmn", "approval", with_dmn=False)
    _village(app, RESIDENTS)
    phone = Phone(login_as("village_doctor", org="C01T01V01"))
    resp = phone.get("/api/mobile/v1/pull", headers={"Accept-Encoding": "identity"})
    assert resp.status_code == 200, resp.json
    size = len(resp.data)
    packet = resp.json
    assert len(packet["tasks"]) == RESIDENTS and len(packet["residents"]) == RESIDENTS
    assert all(len(r["latest"]) == 3 and len(r["medications"]) == 2 for r in packet["residents"])
    assert size < LIMIT, f"packet of {RESIDENTS} residents is {size} bytes"
    print(f"packet for {RESIDENTS} residents: {size / 1024:.0f} KiB uncompressed")
    assert packet["has_more"] is False                                # one page at the default limit (500)
    again = phone.get("/api/mobile/v1/pull", query_string={"token": packet["token"]})
    assert len(json.dumps(again.json)) < 2_000 + 40 * RESIDENTS      # the leases list only
    # a second phone takes it in pages of 100: three pages, each a third of the size, the same content in the end
    paged, token, pages = Phone(phone.api), None, []
    while True:
        page = paged.get("/api/mobile/v1/pull", query_string={"limit": 100, **({"token": token} if token else {})},
                         headers={"Accept-Encoding": "identity"})
        pages.append(page)
        token = page.json["token"]
        if not page.json["has_more"]:
            break
    assert [len(p.json["tasks"]) for p in pages] == [100, 100, 100]
    assert all(len(p.data) < size / 2 for p in pages)
    assert sorted(r["id"] for p in pages for r in p.json["residents"]) == sorted(r["id"] for r in packet["residents"])
