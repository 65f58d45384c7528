"""Entry point of `mlflow run .` (see MLproject).

MLflow quotes every parameter value, so the free-form `overrides` parameter arrives as ONE
argument; it is split here, shell-style, into the Hydra overrides it holds.
"""

from __future__ import annotations

import argparse
import shlex
import sys


def hydra_args(max_evals: int, seed: int, overrides: str) -> list[str]:
    return [
        "+experiment=dtree",
        f"sweep.max_evals={max_evals}",
        f"sweep.seed={seed}",
        *shlex.split(overrides),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sweep.mlproject")
    parser.add_argument("max_evals", type=int)
    parser.add_argument("seed", type=int)
    parser.add_argument("overrides", nargs="?", default="")
    args = parser.parse_args(argv)
    from sweep.__main__ import main as sweep

    sys.argv = [sys.argv[0], *hydra_args(args.max_evals, args.seed, args.overrides)]
    sweep()


if __name__ == "__main__":
    main()
