"""JupyterLab as `make lab` starts it (`airbnb-price lab`): no "Build recommended" prompt on
load, and the profile link notebook 01 shows opens from Lab (its run folder is served)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from airbnb_price.core import config, settings
from airbnb_price.local import lab
from airbnb_price.runs import runfolder

BIN = Path(sys.executable).parent
TOKEN = "lab-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"{url}?token={TOKEN}", timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except urllib.error.URLError:  # not listening yet
        return 0, b""


@pytest.mark.slow
def test_lab_asks_for_no_rebuild_and_opens_the_profile_link(tmp_path, monkeypatch):
    run = runfolder.new_run_dir(settings.local().runs_dir, runfolder.INTERACTIVE)
    (run / "profile.html").write_text("<html><body>the profile</body></html>")
    monkeypatch.chdir(config.NOTEBOOKS_DIR)  # where Lab starts notebook 01's kernel
    href = runfolder.notebook_link(run / "profile.html", "open").split('"')[1]
    port, log = _free_port(), tmp_path / "lab.log"
    command = [str(BIN / "jupyter"), *lab.command(port, browser=False)[1:],
               f"--IdentityProvider.token={TOKEN}", "--ServerApp.ip=127.0.0.1"]
    server = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT,
                              env=os.environ | {"PATH": f"{BIN}:{os.environ['PATH']}"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if server.poll() is not None or _get(f"{base}/api/status")[0] == 200:
                break
            time.sleep(0.2)
        status, body = _get(f"{base}/lab/api/build")  # what Lab asks on every load
        assert status == 200 and json.loads(body)["status"] == "stable", body
        # the project answers Lab's news prompt for a newcomer (jupyter/overrides.json)
        status, body = _get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification")
        assert status == 200, body[:300]
        schema = json.loads(body)["schema"]["properties"]
        assert schema["fetchNews"]["default"] == "false", schema["fetchNews"]
        served = os.path.normpath(f"notebooks/{href}")
        status, body = _get(f"{base}/files/{served}")
        assert status == 200 and b"the profile" in body, (served, status)
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(run, ignore_errors=True)
    assert "Build recommended" not in log.read_text()
