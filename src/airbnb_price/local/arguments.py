"""The `airbnb-price` command line's grammar: every command and its arguments, help texts
included. `local/cli.py` runs the command a parse names (`args.command`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from airbnb_price.core import config, params, settings, spec

DESCRIPTION = "run the notebooks, manage the model registry, serve locally"


#: Fleet runs and batch pricing run on the same cluster options.
SCHEDULER_HELP = (f"an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: "
                  f"${config.SCHEDULER_ENV}, else an embedded LocalCluster of one worker per core)")


def data_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The arguments that choose a run's data and sizes, and where its folder goes."""
    params.add_arguments(parser, command)
    parser.add_argument("--runs-dir", type=Path, default=None, help="default: runs/")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airbnb-price", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the numbered notebooks into a new runs/<id>/")
    data_arguments(run, "run")
    run.add_argument("--notebooks", nargs="+", help="subset of notebooks, in order")

    train = sub.add_parser("train", help="train and compile a model into a new runs/<id>/ "
                           "without notebooks or a kernel (what notebooks 02-03 do)")
    data_arguments(train, "train")
    train.add_argument("--preset", default="lean", choices=("lean", "article"),
                       help="PyCaret preprocessing (default: lean)")

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
    data_arguments(fleet, "fleet")

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

    serve = sub.add_parser("serve", help="the Lambda handler behind a local HTTP API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=settings.local().port,
                       help=f"default: $PORT, else {config.LOCAL_PORT}")
    serve.add_argument("--store", default=None,
                       help="model store to serve from (default: moto S3 with the newest run's "
                            "model published to it)")
    serve.add_argument("--run", default=None, help="run folder whose model to publish to moto "
                       "(default: the newest run's model of each feature set)")

    jupyter = sub.add_parser("lab", help="JupyterLab on the project, notebooks first")
    jupyter.add_argument("--port", type=int, default=None)
    jupyter.add_argument("--no-browser", action="store_true")

    bundle = sub.add_parser("package-zip", help="the function as a plain Lambda zip (the "
                            "serving install + handler.py), for --param=packaging=zip")
    bundle.add_argument("--out", default=str(config.PROJECT_ROOT / ".serverless-zip"),
                        help="folder for predict.zip (default: .serverless-zip, where "
                             "serverless.yml's zipArtifact points)")

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
    return parser
