"""The runtime never loses what a customer gave it: a real `wayline serve` process is killed with
SIGKILL mid-journey and started again (issue 2, "Done when"). And `wayline demo` answers within
10 seconds on a fresh machine's embedded defaults."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from journey_api import (
    OTHER_VEHICLE,
    Api,
    ServerProcess,
    incident,
    run_cli,
    server_env,
    through_incident,
    wait_until_healthy,
)

KEPT = ("revision", "status", "answers", "drafts", "events", "reference", "version")


def _kept(journey: dict[str, Any]) -> dict[str, Any]:
    return {key: journey[key] for key in KEPT}


def test_sigkill_mid_journey_loses_no_saved_answer(database_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = server_env(home, database_url)
    run_cli(["migrate"], env, tmp_path)
    server = ServerProcess(["serve"], env, tmp_path, tmp_path / "server-1.log").start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            alex = Api(http).sign_in("alex")
            # A: several steps answered, a photo uploaded and a draft saved on the photos step.
            a = through_incident(alex, "collision_vehicle")
            a = alex.step(a, "other-vehicle", {**OTHER_VEHICLE, "injuries": True})
            a = alex.step(a, "injuries", {"injured_count": 1, "injury_description": "Bruises"})
            photo = alex.upload(a, "damage_photos")
            a = alex.draft(a, "photos", {"damage_photos": [photo]})
            # B: a half-typed, invalid draft of the incident step.
            b = alex.step(alex.start(), "policy", {"policy_number": "MTR-100001"})
            b = alex.draft(b, "incident", {"incident_date": "31/02", "description": "Half ty"})
            # C: sent.
            c = through_incident(alex, "theft")
            c = alex.step(c, "police", {"crime_reference": "MPS/24-000042"})
            c = alex.submit(alex.step(c, "photos", {}))
            saved = {j["id"]: _kept(alex.journey(j["id"])) for j in (a, b, c)}

            # D: drafts saved as fast as they come, while the process is killed under them.
            d = alex.step(alex.start(), "policy", {"policy_number": "MTR-100001"})
            acknowledged: list[tuple[int, int]] = []  # (n, revision) of each draft saved
            stop = threading.Event()

            def keep_saving() -> None:
                revision = d["revision"]
                with httpx.Client(
                    base_url=server.base_url, cookies=http.cookies, headers=http.headers
                ) as own:
                    for n in range(1, 10_000):
                        if stop.is_set():
                            return
                        try:
                            response = Api(own).patch_step(
                                d["id"], "incident", {"description": f"draft number {n}"}, revision
                            )
                        except httpx.HTTPError:
                            return  # the server is gone
                        assert response.status_code == 200, response.text
                        revision = response.json()["revision"]
                        acknowledged.append((n, revision))

            saver = threading.Thread(target=keep_saving)
            saver.start()
            deadline = time.monotonic() + 30
            while len(acknowledged) < 20 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()
            stop.set()
            saver.join(timeout=30)
        assert len(acknowledged) >= 20, "the drafts were not being saved"
    finally:
        server.stop()

    server = ServerProcess(["serve"], env, tmp_path, tmp_path / "server-2.log").start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            alex = Api(http).sign_in("alex")
            for journey_id, before in saved.items():
                assert _kept(alex.journey(journey_id)) == before
            assert {j["id"] for j in alex.list()} == {*saved, d["id"]}

            # Every acknowledged draft is there: the last one, or one sent after it that
            # committed before the kill.
            last_n, last_revision = acknowledged[-1]
            after = alex.journey(d["id"])
            assert after["revision"] >= last_revision
            kept_n = int(after["drafts"]["incident"]["description"].rsplit(" ", 1)[1])
            assert kept_n >= last_n
            assert after["revision"] == d["revision"] + kept_n

            # The journeys go on from where they were: the photo is still there.
            a = alex.journey(a["id"])
            a = alex.step(a, "photos", {})  # the draft holds the photo
            assert a["answers"]["damage_photos"] == [photo]
            stored = list((home / "files").rglob(photo))
            assert len(stored) == 1 and stored[0].stat().st_size > 0
            repairers = [s for s in a["current_step"]["fields"] if s["name"] == "repairer_id"]
            a = alex.step(
                a,
                "settlement",
                {"settlement": "repairer", "repairer_id": repairers[0]["options"][0]["value"]},
            )
            assert alex.submit(a)["status"] == "submitted"
            b = alex.journey(b["id"])
            b = alex.step(b, "incident", incident("glass"))
            assert b["current_step"]["name"] == "photos"
    finally:
        server.stop()


def startup_budget(seconds: float) -> float:
    """The budget on an otherwise idle machine, stretched while other work keeps every CPU
    busy (on a shared machine, other suites and benchmarks may run beside this one)."""
    load = os.getloadavg()[0]
    return seconds * max(1.0, load / (os.cpu_count() or 1))


def test_demo_answers_within_ten_seconds(tmp_path: Path) -> None:
    """`wayline demo` on embedded defaults, in an empty working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYLINE_")}
    env["PYTHONUNBUFFERED"] = "1"
    demo = ServerProcess(["demo"], env, tmp_path, tmp_path / "demo.log")
    budget = startup_budget(10)
    started = time.monotonic()
    demo.start(timeout=budget)
    try:
        took = time.monotonic() - started
        assert took < budget, f"the demo took {took:.1f}s to answer (budget {budget:.1f}s)"
        wait_until_healthy(demo.base_url, 1)
        assert httpx.get(f"{demo.base_url}/readyz").status_code == 200
        # The data folder defaults to .wayline in the working directory.
        assert (tmp_path / ".wayline" / "wayline.db").exists()
        with httpx.Client(base_url=demo.base_url) as http:
            sam = Api(http).sign_in("sam")
            assert sam.start()["status"] == "in_progress"
        banner = demo.log()
        assert f"{demo.port}" in banner
        for customer in ("alex", "sam", "jordan"):
            assert customer in banner
    finally:
        demo.stop()
