"""End-to-end: the papermill runner on the real listings, and how it fails."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import browser
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from airbnb_price.core import config
from airbnb_price.core.params import RunParams
from airbnb_price.data import sources
from airbnb_price.local import cli, reports, runner
from airbnb_price.runs import runfolder
from airbnb_price.train import budget, experiment


def read_record(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def test_run_record_is_complete(smoke_run, listings_path):
    record = read_record(smoke_run)
    assert record["status"] == "ok" and record["run_id"] == smoke_run.name
    assert record["data"]["sha256"] == sources.sha256_of(listings_path)
    assert record["data"]["rows"] == 16_724
    assert record["parameters"]["smoke"] is True
    assert record["packages"]["pycaret"] and record["packages"]["pandas"]
    assert [n["name"] for n in record["notebooks"]] == list(runner.NOTEBOOKS)
    assert all(n["status"] == "ok" and n["seconds"] > 0 for n in record["notebooks"])


def test_reports_are_html_without_code(smoke_run):
    for name in ("01_eda", "02_features", "03_automl", "04_explain", "05_deploy"):
        page = (smoke_run / "reports" / f"{name}.html").read_text()
        assert page.startswith("<!DOCTYPE html>") and len(page) > 10_000
        assert "from airbnb_price" not in page, "reports must not show code"
        if name != "05_deploy":
            assert "data:image/png;base64" in page, "figures are embedded"
    index = (smoke_run / "index.html").read_text()
    assert 'href="reports/01_eda.html"' in index and 'href="reports/02_features.html"' in index
    assert 'href="profile.html"' in index and 'href="reports/04_explain.html"' in index
    assert "ydata-profiling" in (smoke_run / "profile.html").read_text()
    assert 'href="reports/05_deploy.html"' in index


def test_pycaret_diagnostics_and_deploy_dry_run_recorded(smoke_run):
    assert (smoke_run / "figures" / "price_choropleth.png").stat().st_size > 5_000
    for stem in experiment.PYCARET_PLOTS.values():
        assert (smoke_run / "figures" / f"{stem}.png").stat().st_size > 5_000
    result = json.loads((smoke_run / "deploy.json").read_text())
    assert result["mode"].startswith("dry run") and result["status"] == 200
    assert result["response"]["model"]["version"] == result["model_version"]


def test_feature_table_written(smoke_run):
    import pandas as pd

    table = pd.read_parquet(smoke_run / "features.parquet")
    assert len(table) == 16_724 - 288
    assert {"geo_x", "geo_y", "geo_z", "distance_to_centre_km"} <= set(table.columns)
    rules = json.loads((smoke_run / "cleaning.json").read_text())["rules"]
    assert rules[-1]["rows_removed"] == 288


def failing_notebooks(tmp_path: Path) -> Path:
    nb = new_notebook(cells=[new_code_cell("output_dir = None", metadata={"tags": ["parameters"]}),
                             new_code_cell("x = 1"),
                             new_code_cell("raise ValueError('boom in cell 2')")])
    nb.metadata["kernelspec"] = {"name": config.KERNEL_NAME, "language": "python",
                                 "display_name": "airbnb-price"}
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, folder / "01_fail.ipynb")
    nbformat.write(new_notebook(cells=[new_code_cell("1")], metadata=nb.metadata),
                   folder / "02_never.ipynb")
    return folder


def test_failing_notebook_marks_run_failed(tmp_path, listings_path, smoke_run):
    before = read_record(smoke_run)
    runs = tmp_path / "runs"
    with pytest.raises(runner.RunFailed, match=r"01_fail.ipynb failed in cell \d+.*boom in cell 2"):
        runner.run(RunParams(listings=str(listings_path)),
                     notebooks=("01_fail.ipynb", "02_never.ipynb"), runs_dir=runs,
                     notebooks_dir=failing_notebooks(tmp_path))
    (run_dir,) = runs.iterdir()
    record = read_record(run_dir)
    assert record["status"] == "failed"
    first, second = record["notebooks"]
    assert first["status"] == "failed" and first["error"]["ename"] == "ValueError"
    assert first["error"]["cell_index"] is not None
    assert second["status"] == "pending", "the run stops at the failing notebook"
    assert (run_dir / "reports" / "01_fail.html").exists()
    assert read_record(smoke_run) == before, "an earlier run is untouched"


def test_bad_data_fails_before_any_run_folder(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a;b\n1;2\n")
    runs = tmp_path / "runs"
    assert cli.main(["run", "--listings", str(bad), "--runs-dir", str(runs)]) == 2
    assert "bad.csv: unknown listings layout" in capsys.readouterr().err
    assert not runs.exists() or not list(runs.iterdir())


def test_run_folders_are_never_reused(tmp_path):
    first, second = runfolder.new_run_dir(tmp_path), runfolder.new_run_dir(tmp_path)
    assert first != second and first.is_dir() and second.is_dir()


def test_metrics_and_model_written(smoke_run):
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    for model in ("automl", "baseline_lightgbm", "naive_median"):
        assert set(metrics[model]) == {"mae", "rmse", "r2", "mape"}
        assert 20 < metrics[model]["mae"] < 70, "hold-out MAE in euros is plausible"
    assert sorted(p.name for p in (smoke_run / "model").iterdir()) == [
        "compiled.pkl", "metadata.json", "model.pkl", "neighbourhoods.geojson"]
    metadata = json.loads((smoke_run / "model" / "metadata.json").read_text())
    assert metadata["geometry"] == "neighbourhoods.geojson"
    spread = metrics["range"]  # each hold-out half measured by the other half's calibration
    assert spread["level"] == 0.8 and spread["listings"] == metrics["holdout_rows"] > 300
    assert 0.6 < spread["coverage"] < 0.95, spread  # 80% give or take a small sample's noise
    assert 0 < spread["typical"][0] < spread["typical"][1]
    assert set(spread["by_room_type"]) >= {"Entire home/apt", "Private room"}
    assert len(spread["by_price_decile"]) == 10 and len(spread["by_neighbourhood"]) >= 10
    for group in (*spread["by_room_type"].values(), *spread["by_neighbourhood"].values()):
        assert group["mean_width"] > 0 and group["naive_mean_width"] > 0, group
    assert sum(g["listings"] for g in spread["by_room_type"].values()) == spread["listings"]
    for name in ("shap_bar", "shap_beeswarm", "shap_waterfall_typical",
                 "shap_dependence_distance_to_centre_km", "range_coverage"):
        assert (smoke_run / "figures" / f"{name}.png").stat().st_size > 5_000


def test_newest_model_per_spec(tmp_path):
    """What `airbnb-price serve` and the benchmarks publish: the newest model of each spec."""
    with pytest.raises(FileNotFoundError, match="run 03_automl first"):
        runfolder.newest_model_dirs(tmp_path)
    for run, feature_set in [("20260101T000000Z-a", "summary"), ("20260102T000000Z-b", "detailed"),
                             ("20260103T000000Z-c", "summary"), ("20260104T000000Z-d", None)]:
        model = tmp_path / run / "model"
        model.mkdir(parents=True)
        meta = {"feature_set": feature_set} if feature_set else {}  # older models: summary
        (model / "metadata.json").write_text(json.dumps(meta))
    assert runfolder.newest_model_dirs(tmp_path) == {
        "amsterdam-price-detailed": tmp_path / "20260102T000000Z-b" / "model",
        "amsterdam-price": tmp_path / "20260104T000000Z-d" / "model"}


@pytest.mark.slow
def test_a_downstream_notebook_without_its_upstream_says_which_to_run(tmp_path, listings_path):
    """03 run alone in a fresh run folder stops with "run 02_features first" (it never
    rebuilds the feature table or borrows another run's)."""
    runs = tmp_path / "runs"
    with pytest.raises(runner.RunFailed, match=r"MissingUpstream.*run 02_features first"):
        runner.run(RunParams(listings=str(listings_path), smoke=True),
                   notebooks=("03_automl.ipynb",), runs_dir=runs)


def test_interactive_notebooks_continue_the_newest_interactive_run(tmp_path, monkeypatch):
    monkeypatch.setenv(config.RUNS_DIR_ENV, str(tmp_path))
    with pytest.raises(runfolder.MissingUpstream, match="run 02_features first"):
        runfolder.output_dir(None, "03_automl")
    first = runfolder.output_dir(None, "02_features")
    (first / runfolder.FEATURES).write_bytes(b"x")
    (first / runfolder.CLEANING).write_text("{}")
    assert runfolder.output_dir(None, "03_automl") == first
    with pytest.raises(runfolder.MissingUpstream, match=r"has model/compiled.pkl.*: run 03_automl first"):
        runfolder.output_dir(None, "04_explain")
    assert runfolder.output_dir(None, "02_features") != first  # a source step starts afresh


def test_each_finished_notebook_prints_a_line_with_its_headline(smoke_run):
    """What `make run` shows as it goes: name, status, time, and what the notebook found."""
    record = read_record(smoke_run)
    lines = [runner.progress_line(entry, smoke_run) for entry in record["notebooks"]]
    assert lines[0].startswith("01_eda ok ") and " s" in lines[0]
    assert lines[1].endswith("16,436 listings priced in EUR")
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    assert lines[2].endswith(f"hold-out MAE {metrics['automl']['mae']:.2f} vs LightGBM "
                             f"{metrics['baseline_lightgbm']['mae']:.2f} EUR")
    assert "dry run" in lines[4] and "HTTP 200" in lines[4]
    failed = runner.progress_line({"name": "03_automl.ipynb", "status": "failed", "seconds": 75,
                                   "error": {"ename": "TooSmall", "evalue": "40 listings"}},
                                  smoke_run)
    assert failed == "03_automl FAILED after 1 min 15 s: TooSmall: 40 listings"


def test_reports_leave_progress_bars_out_and_keep_warnings_in_the_log(smoke_run, tmp_path):
    executed = nbformat.read(smoke_run / "01_eda.ipynb", as_version=4)
    assert any(o.get("name") == "stderr" for cell in executed.cells
               for o in cell.get("outputs", [])), "ydata-profiling writes its bars to stderr"
    for page in (smoke_run / "reports").glob("*.html"):
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page.read_text(), page.name
    cell = new_code_cell("", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="Summarize: 40%|####  | 4/10\r"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: few rows\n"),
        nbformat.v4.new_output("stream", name="stdout", text="kept\n")])
    notebook, log = new_notebook(cells=[cell]), tmp_path / "logs.log"
    assert reports.strip_stderr(notebook, log) == 2
    assert [o["text"] for o in notebook.cells[0].outputs] == ["kept\n"]
    assert "UserWarning: few rows" in log.read_text() and "40%" not in log.read_text()


def test_the_run_page_answers_first_and_renders_in_chromium(smoke_run, tmp_path):
    """The page a stakeholder opens first, as Chromium shows it: the answer, the drivers,
    the model and data, thumbnails of the key figures, and links that all resolve."""
    page = smoke_run / "index.html"
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    dom = browser.render(page, tmp_path / "run.png", tmp_path / "profile")
    assert f"{metrics['automl']['mae']:,.2f} EUR" in dom and "plain LightGBM" in dom
    assert f"{metrics['naive_median']['mae']:,.2f}" in dom
    drivers = json.loads((smoke_run / "drivers.json").read_text())["drivers"]
    assert len(drivers) == 5 and all(d["label"] in dom for d in drivers)  # words, not columns
    assert not any("_" in d["label"] for d in drivers)
    assert "A typical listing" in dom and "sha256" in dom
    assert reports.range_sentence(metrics["range"], "EUR") in dom  # "8 in 10 ... 80% range"
    assert dom.count('<img src="figures/') == len(reports.KEY_FIGURES) + 1  # + the range map
    outside = metrics["range"]["outside"]  # what AirRent acts on: room links, ranges, drivers
    assert 0 < len(outside["below"]) <= 10 and 0 < len(outside["above"]) <= 10
    for item in outside["below"] + outside["above"]:
        assert f'href="https://www.airbnb.com/rooms/{item["id"]}"' in dom
        assert len(item["drivers"]) == 3 and not any("_" in d for d in item["drivers"])
    assert all(i["asking"] < i["low"] for i in outside["below"])
    assert all(i["asking"] > i["high"] for i in outside["above"])
    links = browser.local_links(page)
    assert len(links) > 15 and all(link.is_file() for link in links), \
        [str(link) for link in links if not link.is_file()]
    assert browser.colours(tmp_path / "run.png") > 1_000  # the thumbnails were drawn


def _kernels_in(folder: Path) -> list[int]:
    """Processes (kernels and their workers) whose working directory is `folder`."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")) == folder:
                found.append(int(proc.name))
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("name", "to_group", "code"), [("SIGINT", True, 130),
                                                         ("SIGTERM", False, 143)])
def test_a_signal_stops_a_run_within_seconds_and_leaves_it_clean(tmp_path, listings_path, name,
                                                                 to_group, code):
    """Ctrl-C (SIGINT, twice, to the process group as a terminal sends it) and a timeout's
    SIGTERM (to the process alone) during notebook 03: the run ends within seconds, no kernel
    outlives it, run.json says "interrupted" and names the notebook and cell, the folder has no
    socket files, and the next run starts a folder of its own."""
    runs = tmp_path / "runs"
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "airbnb-price"), "run", "--smoke", "--listings",
         str(listings_path), "--runs-dir", str(runs)], start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    record_path = None
    while time.monotonic() < deadline:
        record_path = next(runs.glob("*/run.json"), None) if runs.exists() else None
        if record_path and {"name": "03_automl.ipynb", "status": "running"} in json.loads(
                record_path.read_text())["notebooks"]:
            break
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    time.sleep(5)  # inside a cell of notebook 03
    run_dir = record_path.parent
    assert _kernels_in(run_dir), "a kernel should be running in the run folder"
    signum = getattr(signal, name)
    sent = time.monotonic()
    if to_group:
        os.killpg(process.pid, signum)
        time.sleep(0.3)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - sent < 15
    assert process.returncode == code, err
    assert f"stopped by {name}" in err and "Traceback" not in err, err
    record = json.loads(record_path.read_text())
    assert record["status"] == "interrupted" and record["stopped_by"] == name
    statuses = {e["name"]: e["status"] for e in record["notebooks"]}
    assert statuses["03_automl.ipynb"] == "interrupted" and statuses["04_explain.ipynb"] == "pending"
    stopped = next(e for e in record["notebooks"] if e["status"] == "interrupted")
    assert stopped["error"]["cell_index"] > 0 and stopped["error"]["first_line"]
    assert not _kernels_in(run_dir)
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith("kernel-ipc")]
    assert (run_dir / "index.html").is_file()
    assert cli.main(["run", "--smoke", "--listings", str(listings_path), "--runs-dir", str(runs),
                     "--notebooks", "02_features.ipynb"]) == 0
    assert len(list(runs.iterdir())) == 2


def test_training_without_a_kernel_makes_the_notebooks_model_to_the_cent(smoke_run,
                                                                          listings_path, tmp_path):
    """`airbnb-price train` (no notebooks, no kernel) writes the same run-folder layout and the
    same model as notebooks 02-03 of the smoke run, on every training row."""
    from airbnb_price.serve import artifact

    assert cli.main(["train", "--smoke", "--listings", str(listings_path),
                     "--runs-dir", str(tmp_path)]) == 0
    (run_dir,) = tmp_path.iterdir()
    record = read_record(run_dir)
    assert record["status"] == "ok" and record["mode"] == "train" and not list(
        run_dir.glob("*.ipynb"))
    for name in (runfolder.FEATURES, runfolder.CLEANING, runfolder.EXAMPLE, "metrics.json"):
        assert (run_dir / name).is_file(), name
    table, _ = runfolder.read_features(smoke_run)
    X = table.drop(columns=config.TARGET)
    ours, theirs = artifact.load(run_dir / "model"), artifact.load(smoke_run / "model")
    assert abs(ours.predict(X) - theirs.predict(X)).max() <= 0.01
    kept = ("automl", "baseline_lightgbm", "naive_median", "best_model", "learning_curve")
    ours_m, theirs_m = (json.loads((d / "metrics.json").read_text()) for d in (run_dir, smoke_run))
    assert {k: ours_m[k] for k in kept} == {k: theirs_m[k] for k in kept}


def test_a_time_budget_cuts_tuning_and_says_so(tmp_path, shared_data, capsys):
    """A full-size run of a small city under a budget too short for its tuning: the run ends,
    run.json records the budget and metrics.json what was cut, in words."""
    albany = shared_data.parent / "albany" / "2024-03-10" / "listings.csv"
    seconds = round(budget.AFTER_TRAINING_S + 5)  # 5 s beyond what the later notebooks keep
    assert cli.main(["train", "--city", "albany", "--listings", str(albany),
                     "--time-budget", f"{seconds}s", "--runs-dir", str(tmp_path)]) == 0
    (run_dir,) = tmp_path.iterdir()
    record = read_record(run_dir)
    assert record["parameters"]["time_budget"] == f"{seconds}s"
    assert record["budget"]["seconds"] == seconds
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert any(cut.startswith("tuned ") and cut.endswith("iterations: budget")
               for cut in metrics["budget_cuts"]), metrics["budget_cuts"]
    assert record["budget"]["cuts"] == metrics["budget_cuts"]
    assert "training: tune: " in capsys.readouterr().out  # progress lines, as they come
