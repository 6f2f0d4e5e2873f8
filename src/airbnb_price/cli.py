"""`airbnb-price` command line: run the notebooks, manage the model registry."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from airbnb_price import config


def _run(args: argparse.Namespace) -> int:
    from airbnb_price import pipeline

    params = pipeline.RunParams(listings=args.listings, city=args.city, snapshot=args.snapshot,
                                smoke=args.smoke, min_price=args.min_price,
                                max_price=args.max_price)
    notebooks = tuple(args.notebooks) if args.notebooks else pipeline.NOTEBOOKS
    run_dir = pipeline.run(params, notebooks=notebooks, runs_dir=args.runs_dir)
    print(f"run complete: {run_dir}\nreports: {run_dir / 'index.html'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airbnb-price", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the numbered notebooks into a new runs/<id>/")
    run.add_argument("--listings", help=f"listings CSV path or URL (default: ${config.LISTINGS_ENV},"
                     " then the cache, then a download from Inside Airbnb)")
    run.add_argument("--city", default=config.DEFAULT_CITY, choices=sorted(config.CITIES))
    run.add_argument("--snapshot", default=config.DEFAULT_SNAPSHOT, help="Inside Airbnb date")
    run.add_argument("--smoke", action="store_true", help="small, fast parameter set")
    run.add_argument("--min-price", type=float, default=config.MIN_PRICE)
    run.add_argument("--max-price", type=float, default=config.MAX_PRICE)
    run.add_argument("--runs-dir", type=Path, default=None, help="default: runs/")
    run.add_argument("--notebooks", nargs="+", help="subset of notebooks, in order")
    run.set_defaults(func=_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; known errors become one clear line on stderr, never a traceback."""
    from airbnb_price.data import DataError
    from airbnb_price.pipeline import RunFailed

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        print(f"airbnb-price: data error: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"airbnb-price: run failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
