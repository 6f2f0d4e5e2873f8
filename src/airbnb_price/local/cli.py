"""`airbnb-price` command line: run the notebooks, manage the model registry, serve locally."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from airbnb_price.core import config, params, settings, spec
from airbnb_price.core.params import RunParams


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


#: Fleet runs and batch pricing run on the same cluster options.
SCHEDULER_HELP = (f"an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: "
                  f"${config.SCHEDULER_ENV}, else an embedded LocalCluster of one worker per core)")


def _run_params(args: argparse.Namespace) -> RunParams:
    """The run parameters of `run` and `train`, from the arguments params.add_arguments made."""
    return RunParams.of(vars(args))


def _data_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The arguments that choose a run's data and sizes, and where its folder goes."""
    params.add_arguments(parser, command)
    parser.add_argument("--runs-dir", type=Path, default=None, help="default: runs/")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airbnb-price", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the numbered notebooks into a new runs/<id>/")
    _data_arguments(run, "run")
    run.add_argument("--notebooks", nargs="+", help="subset of notebooks, in order")
    run.set_defaults(func=_run)

    train = sub.add_parser("train", help="train and compile a model into a new runs/<id>/ "
                           "without notebooks or a kernel (what notebooks 02-03 do)")
    _data_arguments(train, "train")
    train.add_argument("--preset", default="lean", choices=("lean", "article"),
                       help="PyCaret preprocessing (default: lean)")
    train.set_defaults(func=_train)

    fleet = sub.add_parser("fleet", help="many cities' notebooks at once on Dask (one task per "
                           "city) into runs/<fleet-id>/ with a comparison page")
    fleet.add_argument("--city", action="append", help="a city slug, or city@snapshot "
                       "(repeatable)")
    fleet.add_argument("--cities", type=Path, help="a file with one `city [snapshot] "
                       "[listings]` per line")
    fleet.add_argument("--scheduler", default=None, help=SCHEDULER_HELP)
    fleet.add_argument("--notebooks", nargs="+", help="per city (default: 01-04; deploy is "
                       "one step for the fleet: model publish --fleet)")
    fleet.add_argument("--retries", type=int, default=config.FLEET_RETRIES,
                       help="retries of a task that raised (a lost worker's task is always "
                            "rescheduled)")
    _data_arguments(fleet, "fleet")
    fleet.set_defaults(func=_fleet)

    price = sub.add_parser("predict", help="price every row of listings files with the published "
                           "models, on Dask (batch pricing)")
    price.add_argument("--input", required=True, nargs="+", help="listings files or globs "
                       "(summary or detailed layout; .csv or .csv.gz)")
    price.add_argument("--output", required=True, type=Path, help="OUT.parquet or OUT.csv: id, "
                       "city, price, currency, model version, error")
    price.add_argument("--store", default=None, help="model store (default: "
                       f"${config.MODEL_STORE_ENV}, ./models)")
    price.add_argument("--city", default=None, help="the files' city (default: from their "
                       "folders, <city>/<snapshot>/<file>)")
    price.add_argument("--feature-set", default=None, choices=spec.FEATURE_SET_NAMES,
                       help="default: detailed for a detailed file, else summary")
    price.add_argument("--scheduler", default=None, help=SCHEDULER_HELP)
    price.set_defaults(func=_predict)

    model = sub.add_parser("model", help="publish, list and promote models in the registry")
    actions = model.add_subparsers(dest="action", required=True)
    store_help = f"s3://bucket/prefix or a folder (default: ${config.MODEL_STORE_ENV}, ./models)"
    publish = actions.add_parser("publish", help="upload runs/<id>/model as a new version")
    source = publish.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="run folder, e.g. runs/<id>")
    source.add_argument("--fleet", help="fleet folder runs/<fleet-id>: every city that "
                        "succeeded, each publish atomic")
    promote = actions.add_parser("promote", help="point latest at VERSION (rollback)")
    promote.add_argument("version")
    listing = actions.add_parser("list", help="versions, * marks latest")
    upgrade = actions.add_parser("compile", help=f"add {'compiled.pkl'} to a version published "
                                 "before the compiled engine (checked against its lean.pkl)")
    upgrade.add_argument("--version", default=None, help="default: the latest")
    for action in (publish, promote, listing, upgrade):
        action.add_argument("--store", default=None, help=store_help)
        action.add_argument("--name", default=None if action is publish else spec.get().name,
                            help="registry name, one of " + ", ".join(spec.SPECS)
                            + " (publish: the model's own)")
    model.set_defaults(func=_model)

    serve = sub.add_parser("serve", help="the Lambda handler behind a local HTTP API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=settings.local().port,
                       help=f"default: $PORT, else {config.LOCAL_PORT}")
    serve.add_argument("--store", default=None,
                       help="model store to serve from (default: moto S3 with the newest run's "
                            "model published to it)")
    serve.add_argument("--run", default=None, help="run folder whose model to publish to moto "
                       "(default: the newest run's model of each feature set)")
    serve.set_defaults(func=_serve)

    jupyter = sub.add_parser("lab", help="JupyterLab on the project, notebooks first")
    jupyter.add_argument("--port", type=int, default=None)
    jupyter.add_argument("--no-browser", action="store_true")
    jupyter.set_defaults(func=_lab)

    bundle = sub.add_parser("package-zip", help="the function as a plain Lambda zip (the "
                            "serving install + handler.py), for --param=packaging=zip")
    bundle.add_argument("--out", default=str(config.PROJECT_ROOT / ".serverless-zip"),
                        help="folder for predict.zip (default: .serverless-zip, where "
                             "serverless.yml's zipArtifact points)")
    bundle.set_defaults(func=_package_zip)

    ship = sub.add_parser("deploy", help="publish the model and `sls deploy` the endpoint")
    ship.add_argument("--run", default=None, help="run folder (default: the newest with a model)")
    ship.add_argument("--stage", default="dev")
    ship.add_argument("--region", default=config.AWS_REGION)
    ship.add_argument("--bucket", default=None,
                      help=f"model bucket (default: {config.MODEL_BUCKET.format(stage='STAGE')})")
    ship.add_argument("--model-version", default="", help="pin a published version (skip publish)")
    ship.add_argument("--dry-run", action="store_true",
                      help="the same steps against moto S3 and a local endpoint")
    ship.add_argument("--work-dir", default=None, help="dry run: where the package goes")
    ship.set_defaults(func=_deploy)
    return parser


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
        return args.func(args)
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
