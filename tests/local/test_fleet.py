"""Fleet runs on a real Dask cluster: `dask scheduler` and two `dask worker` processes on
127.0.0.1, each worker in its own working directory, and `airbnb-price fleet --scheduler` as
a user runs it. One run covers what a fleet must survive: a worker killed while it trains a
city (the city finishes on the other worker), a city whose file is bad (it fails alone),
and run folders shipped back to a client that shares no paths with the workers' runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import browser
import pytest

from airbnb_price.core import registry
from airbnb_price.data.sources import sha256_of
from airbnb_price.local import cluster, fleet

BIN = Path(sys.executable).parent
SMOKE_NOTEBOOKS = ["02_features.ipynb", "03_automl.ipynb"]


def _start(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(args, cwd=cwd, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)  # its own group: killed with its kernels


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers, started as `dask` commands; yields the
    scheduler address, the worker processes by name and their log files."""
    from distributed import Client

    root = tmp_path_factory.mktemp("dask")
    scheduler_file = root / "scheduler.json"
    processes = {"scheduler": _start(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)],
        root / "scheduler", root / "scheduler.log")}
    for _ in range(100):
        if scheduler_file.is_file() and scheduler_file.stat().st_size:
            break
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    for name in ("w1", "w2"):
        processes[name] = _start(
            [str(BIN / "dask"), "worker", address, "--name", name, "--nthreads", "1",
             "--nworkers", "1", "--local-directory", str(root / name / "scratch")],
            root / name, root / f"{name}.log")
    try:
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        yield {"address": address, "processes": processes, "root": root}
    finally:
        for process in processes.values():
            _stop(process)


def _kill_worker_running(address: str, label: str, processes: dict) -> str:
    """Wait until `label`'s task runs, give it time to get into training, then SIGKILL that
    worker's whole process group (nanny, worker and notebook kernel); the name killed."""
    from distributed import Client

    with Client(address, timeout="30s") as client:
        for _ in range(600):
            running = {worker: keys for worker, keys in client.processing().items()
                       if any(str(key).endswith(f"-{label}") for key in keys)}
            if running:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"{label}'s task never started")
        (worker,) = running
        name = cluster.identity(client)["workers"][worker]["name"]
    time.sleep(8)
    os.killpg(processes[name].pid, signal.SIGKILL)
    return name


def test_a_fleet_on_a_dask_cluster_survives_a_killed_worker_and_a_bad_city(
        dask_cluster, shared_data, tmp_path):
    data = shared_data.parent
    bad = tmp_path / "victoria" / "2021-09-29" / "listings.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("this,is,not\na,listings,file\n")
    cities_file = tmp_path / "cities.txt"
    cities_file.write_text(f"# two good cities and one bad file\nvalencia\nalbany 2024-03-10\n"
                           f"victoria 2021-09-29 {bad}\n")
    runs = tmp_path / "client-runs"
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    client = subprocess.Popen(
        [str(BIN / "airbnb-price"), "fleet", "--cities", str(cities_file), "--smoke",
         "--data-folder", str(data), "--scheduler", dask_cluster["address"],
         "--runs-dir", str(runs), "--notebooks", *SMOKE_NOTEBOOKS, "--time-budget", "20m"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed = _kill_worker_running(dask_cluster["address"], "valencia",
                                  dask_cluster["processes"])
    output, _ = client.communicate(timeout=900)
    assert client.returncode == 1, output  # one city failed: the fleet says so

    (fleet_dir,) = runs.iterdir()
    record = json.loads((fleet_dir / "fleet.json").read_text())
    rows = {row["label"]: row for row in record["cities"]}
    assert rows["valencia"]["status"] == "ok" and rows["albany"]["status"] == "ok", output
    # valencia started on the killed worker and finished on the other one
    attempts = rows["valencia"]["attempts"]
    assert len(attempts) == 2 and attempts[0] != attempts[1], attempts
    # the biggest file goes first, so it does not start last and hold up the fleet
    assert record["order"] == ["valencia", "albany", "victoria"]
    assert record["time_budget"] == "20m"
    assert rows["victoria"]["status"] == "failed"
    assert "unknown listings layout" in rows["victoria"]["error"]
    for label, currency in (("valencia", "EUR"), ("albany", "USD")):
        row = rows[label]
        assert row["currency"] == currency and row["listings"] > 100
        assert {"automl", "lightgbm", "naive"} <= set(row["holdout"])
        run = json.loads((fleet_dir / label / "run.json").read_text())
        assert run["status"] == "ok" and [n["name"] for n in run["notebooks"]] == SMOKE_NOTEBOOKS
        assert run["parameters"]["time_budget"] == "20m" and run["budget"]["seconds"] == 1200
        # the worker read the bytes the client sent, in its own folder, not the client's path
        assert run["data"]["sha256"] == sha256_of(Path(row["source"]))
        assert not run["data"]["path"].startswith(str(data))
        assert (fleet_dir / label / "model" / "compiled.pkl").is_file()
        assert (fleet_dir / label / "index.html").is_file()
    page = (fleet_dir / "index.html").read_text()
    assert all(f'href="{label}/index.html"' in page for label in ("valencia", "albany"))
    assert "failed" in page and (fleet_dir / fleet.fleet_page.FLEET_FIGURE).is_file()
    dom = browser.render(fleet_dir / "index.html", tmp_path / "fleet.png", tmp_path / "chrome")
    assert f"{rows['albany']['holdout']['automl']['mae']:,.2f}" in dom and "USD" in dom
    links = browser.local_links(fleet_dir / "index.html")
    assert all(link.is_file() for link in links), [str(x) for x in links if not x.is_file()]
    assert browser.colours(tmp_path / "fleet.png") > 500  # the figure was drawn
    # progress on the client's terminal: the dashboard link and each notebook as it ends
    assert "dashboard http://" in output
    assert "[albany] 03_automl ok" in output and "[valencia] 02_features ok" in output
    logs = "".join(p.read_text() for p in dask_cluster["root"].glob("w*.log"))
    assert "without encryption" not in logs  # kernels talk over IPC, not TCP
    assert not list((dask_cluster["root"] / ("w2" if killed == "w1" else "w1")).rglob(
        "fleet-*"))  # the surviving worker's scratch folders are gone

    store = tmp_path / "store"
    published = fleet.publish_fleet(fleet_dir, registry.open_store(store))
    assert sorted(name for name, _ in published) == ["albany-price", "valencia-price"]
    assert sorted(registry.published(registry.open_store(store))) == ["albany-price",
                                                                       "valencia-price"]
