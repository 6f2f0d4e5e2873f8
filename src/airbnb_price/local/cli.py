"""`airbnb-price` command line: run the notebooks, manage the model registry, serve locally.
What each command does; the commands' arguments are `local/arguments.py`."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from airbnb_price.core import config, settings, spec
from airbnb_price.core.params import RunParams
from airbnb_price.local.arguments import build_parser


def _run(args: argparse.Namespace) -> int:
    from airbnb_price.local import runner

    params = _run_params(args)
    notebooks = tuple(args.notebooks) if args.notebooks else runner.notebooks_for(params)
    run_dir = runner.run(params, notebooks=notebooks, runs_dir=args.runs_dir)
    print(f"run complete: {run_dir}\nreports: {run_dir / 'index.html'}")
    return 0


def _train(args: argparse.Namespace) -> int:
    """Notebooks 02-03's steps without a kernel: features, AutoML, the model folder."""
    from airbnb_price.local import headless

    run_dir = headless.train(_run_params(args), runs_dir=args.runs_dir, preset=args.preset)
    print(f"model: {run_dir / 'model'}\nmetrics: {run_dir / 'metrics.json'}")
    return 0


def _fleet(args: argparse.Namespace) -> int:
    """Every city's notebooks as one Dask task each; exit 1 when any city failed."""
    from airbnb_price.local import fleet

    entries = [fleet.FleetCity.parse(text) for text in args.city or []]
    if args.cities:
        entries += fleet.read_cities(args.cities)
    notebooks = tuple(args.notebooks) if args.notebooks else fleet.FLEET_NOTEBOOKS
    fleet_dir, record = fleet.run_fleet(
        entries, args.feature_set, args.smoke, notebooks, args.scheduler, args.runs_dir,
        args.data_folder or settings.local().data_folder, args.retries,
        args.time_budget)
    print(f"{fleet.terminal_report(record)}\nfleet report: {fleet_dir / 'index.html'}")
    return 0 if record["status"] == "ok" else 1


def _predict(args: argparse.Namespace) -> int:
    """Price every row of the input files with the store's published models."""
    from airbnb_price.local import batch

    counts = batch.price_files(args.input, args.output, args.store, args.scheduler, args.city,
                               args.feature_set)
    print(f"priced {counts['priced']:,} of {counts['rows']:,} rows from {counts['files']} "
          f"file(s) in {counts['partitions']} partitions; {counts['refused']:,} refused (reason "
          f"in the error column) -> {counts['output']}")
    return 0


def _package_zip(args: argparse.Namespace) -> int:
    from airbnb_price.ops import packager

    built = packager.build_zip(Path(args.out))
    print(f"{built.path} ({built.zipped_mb} MB zipped, {built.unzipped_mb} MB unzipped; "
          f"Lambda allows 250 MB unzipped)")
    return 0


def _model(args: argparse.Namespace) -> int:
    from airbnb_price.core import registry

    store = registry.open_store(args.store)
    if args.action == "publish" and args.fleet:
        from airbnb_price.local import fleet

        published = fleet.publish_fleet(Path(args.fleet), store)
        for name, version in published:
            print(f"published {version} to {store.url}/{name}")
        if not published:
            print(f"no successful city in {args.fleet}: nothing published")
        return 0 if published else 1
    if args.action == "publish":
        model_dir = Path(args.run) / "model"
        name = args.name or spec.of_metadata(registry.run_metadata(model_dir)).name
        version = registry.publish(store, model_dir, name)
        print(f"published {version} to {store.url}/{name}")
    elif args.action == "compile":
        from airbnb_price.train import compiler

        version = args.version or registry.latest_version(store, args.name)
        compiler.compile_published(store, args.name, version)
        print(f"added {registry.COMPILED} to {store.url}/{args.name}/{version}")
    elif args.action == "promote":
        registry.promote(store, args.version, args.name)
        print(f"latest -> {args.version} ({store.url}/{args.name})")
    else:
        versions = registry.list_versions(store, args.name)
        if not versions:
            others = ", ".join(registry.published(store)) or "none"
            print(f"no model {args.name!r} is published in {store.url} (published there: "
                  f"{others})")
        for entry in versions:
            mae = entry["metrics"].get("holdout", {}).get("mae", "?")
            print(f"{'*' if entry['latest'] else ' '} {entry['version']}  hold-out MAE {mae}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    """The real handler behind a local HTTP API; S3 from moto unless --store is given."""
    import signal
    import time

    # Ctrl-C stops the server even when started from a script or CI job that runs it in the
    # background, where SIGINT arrives ignored (POSIX) and would otherwise never stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    from airbnb_price.core import registry
    from airbnb_price.ops import httpapi, moto
    from airbnb_price.runs import runfolder

    with contextlib.ExitStack() as stack:
        store_url = args.store
        if not store_url:
            stack.enter_context(moto.moto_s3())
            store_url = f"s3://{config.LOCAL_BUCKET}/{config.MODEL_PREFIX}"
            try:
                model_dirs = ([Path(args.run) / "model"] if args.run
                              else runfolder.newest_model_dirs().values())
                for model_dir in model_dirs:
                    version = registry.publish(registry.open_store(store_url), model_dir)
                    print(f"published {model_dir} as {version} to moto S3 {store_url}")
            except FileNotFoundError as exc:
                print(f"no model published ({exc}); /predict answers 503 until one is")
        url = stack.enter_context(httpapi.local_endpoint(store_url, args.port, log=True))
        print(f"serving {config.LAMBDA_HANDLER} on {url} (POST /predict, GET /health); "
              "Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


def _lab(args: argparse.Namespace) -> int:
    """JupyterLab on the project (`make lab`), replacing this process."""
    import shutil

    from airbnb_price.local import lab

    command = lab.command(args.port, browser=not args.no_browser)
    os.execv(shutil.which("jupyter") or command[0], command)


def _deploy(args: argparse.Namespace) -> int:
    """Publish the run's model, `sls deploy`, call the URL; or the same steps locally."""
    from airbnb_price.ops import deploy
    from airbnb_price.runs import runfolder

    model_dir = (runfolder.model_dir(Path(args.run)) if args.run
                 else runfolder.newest_model_dir())
    if args.dry_run:
        result = deploy.dry_run(model_dir, Path(args.work_dir or model_dir.parent / "deploy"))
    else:
        check = deploy.preflight()
        if not check.ready:
            print("airbnb-price: cannot deploy from here, missing: " + "; ".join(check.missing)
                  + ".\nNothing was deployed. `--dry-run` takes the same steps against S3 on "
                  "moto and a local endpoint.", file=sys.stderr)
            return 2
        result = deploy.real_run(model_dir, args.stage, args.bucket, args.region,
                                 args.model_version)
    print(json.dumps(result, indent=2, default=str))
    return 0 if result["status"] == 200 else 1


def _run_params(args: argparse.Namespace) -> RunParams:
    """The run parameters of `run` and `train`, from the arguments params.add_arguments made."""
    return RunParams.of(vars(args))


#: The function each command runs, by the name `arguments.build_parser` gives it.
COMMANDS = {"run": _run, "train": _train, "fleet": _fleet, "predict": _predict, "model": _model,
            "serve": _serve, "lab": _lab, "package-zip": _package_zip, "deploy": _deploy}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; known errors become one clear line on stderr, never a traceback."""
    from airbnb_price.core.cities import CityError
    from airbnb_price.core.params import BudgetError
    from airbnb_price.core.registry import RegistryError
    from airbnb_price.core.spec import SpecError
    from airbnb_price.data.errors import DataError
    from airbnb_price.local.fleet import FleetError
    from airbnb_price.local.runner import RunFailed
    from airbnb_price.local.stopping import RunInterrupted
    from airbnb_price.ops.deploy import DeployError
    from airbnb_price.train.budget import TooSmall

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except DataError as exc:
        print(f"airbnb-price: data error: {exc}", file=sys.stderr)
        return 2
    except RegistryError as exc:
        print(f"airbnb-price: registry error: {exc}", file=sys.stderr)
        return 2
    except (DeployError, FileNotFoundError, SpecError, CityError, TooSmall, FleetError,
            BudgetError) as exc:
        print(f"airbnb-price: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"airbnb-price: run failed: {exc}", file=sys.stderr)
        return 1
    except RunInterrupted as exc:
        where = f"; {exc.run_dir / 'run.json'} says where it stopped" if exc.run_dir else \
            " before any notebook started"
        print(f"airbnb-price: run {exc}: kernels shut down{where}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
