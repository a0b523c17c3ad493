"""`wayline preview`: a branch's definitions served like the demo, in a data folder of their
own, with the Preview banner on every page; over HTTP, from a real process."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from journey_api import JOURNEYS_DIR, ServerProcess, server_env

BRANCH_TITLE = "Claim for your car (branch)"


def test_preview_serves_the_branch_s_journeys_with_the_banner(tmp_path: Path) -> None:
    branch = tmp_path / "branch"
    shutil.copytree(JOURNEYS_DIR, branch)
    definition = branch / "motor-claim.yaml"
    text = definition.read_text()
    definition.write_text(
        text.replace("\ntitle: Make a car insurance claim\n", f"\ntitle: {BRANCH_TITLE}\n")
    )
    home, shared = tmp_path / "preview-home", tmp_path / "shared.db"
    # A database the environment names: a preview must never touch it.
    env = server_env(tmp_path / "elsewhere", f"sqlite:///{shared}")
    args = ["preview", "--journeys", str(branch), "--label", "PR 42", "--home", str(home)]
    server = ServerProcess(args, env, tmp_path, tmp_path / "preview.log").start()
    try:
        for path in ("/", "/sign-in"):
            page = httpx.get(f"{server.base_url}{path}", timeout=10)
            assert page.status_code == 200, page.text[:300]
            assert 'aria-label="Preview"' in page.text and "PR 42" in page.text, path
        home_page = httpx.get(f"{server.base_url}/", timeout=10).text
        assert BRANCH_TITLE in home_page
        assert "Make a car insurance claim" not in home_page
        # The demo's customers sign in as in the demo.
        signed = httpx.post(f"{server.base_url}/auth/demo", json={"customer": "alex"}, timeout=10)
        assert signed.status_code == 204
    finally:
        server.kill()  # nothing to shut down gracefully: the folder is checked, then dropped
    assert (home / "wayline.db").is_file()
    assert not shared.exists() and not (tmp_path / "elsewhere").exists()
