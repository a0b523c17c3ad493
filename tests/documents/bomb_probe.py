"""Run by test_upload_checks in a process of its own, so that its memory is measured alone:
the whole application (the database at the URL given) takes one real photo, then the
decompression bomb, through the API; prints the answer and how much the process's peak
resident memory grew while the bomb was refused, as JSON.

Usage: python bomb_probe.py HOME DATABASE_URL BOMB_FILE
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))


def memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> None:
    """Start the high-water mark again from the current size (Linux 4.0 and later)."""
    # Where it cannot be reset, the peak includes what came before: the test is then stricter.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def main(home: str, database_url: str, bomb: str) -> None:
    from fastapi.testclient import TestClient
    from journey_api import JOURNEYS_DIR, Api, jpeg_bytes, through_incident

    from wayline.bootstrap import build
    from wayline.config import Settings
    from wayline.sandbox.wiring import demo_options
    from wayline.web.app import create_app

    settings = Settings(
        home=Path(home),
        database_url=database_url,
        demo=True,
        secret_key="test",
        journeys_dir=JOURNEYS_DIR,
    )
    components = build(settings, migrate=True, **demo_options())
    content = Path(bomb).read_bytes()
    with TestClient(create_app(components)) as http:
        api = Api(http).sign_in("alex")
        journey = through_incident(api, "glass")
        # A real photo first: every decoder and library is loaded before measuring.
        api.upload(journey, "damage_photos", jpeg_bytes(1600, 1200), "warm-up.jpg")
        reset_peak()
        before = memory_kib("VmHWM")
        response = api.post_document(journey["id"], "damage_photos", content, "car.png")
        peak = memory_kib("VmHWM")
        documents = api.http.get(f"/api/v1/journeys/{journey['id']}/documents").json()
    components.store.engine.dispose()
    print(
        json.dumps(
            {
                "status": response.status_code,
                "body": response.json(),
                "peak_growth_mib": (peak - before) / 1024,
                "documents": len(documents),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
