"""Serve the fake Duda on 127.0.0.1 until interrupted (README's worked example, benchmarks).

    PYTHONPATH=tests python -m duda.fake --seed tests/duda/seed.example.yaml --port 8765

The credentials are read from the environment variables the reconciler's ``duda``
platform reads (``--user-env``/``--password-env``, default ``DUDA_API_USER`` and
``DUDA_API_PASS``), or are the fake's own when those are unset; they are never printed.
``--url-file`` writes the base URL to a file once the port is open, for a script that
starts the fake with ``--port 0``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import get_args, get_type_hints

from .api import Variants
from .seed import SeedError
from .server import FAKE_PASSWORD, FAKE_USER, DudaFake


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    fake = DudaFake(
        user=os.environ.get(options.user_env) or FAKE_USER,
        password=os.environ.get(options.password_env) or FAKE_PASSWORD,
        variants=_variants(options),
        rate_limit=None if options.rate_limit == 0 else options.rate_limit,
        create_account_per_minute=options.create_account_limit,
        port=options.port,
    )
    try:
        for seed in options.seed:
            fake.seed(seed)
    except SeedError as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    signal.signal(signal.SIGTERM, _stop)
    try:
        fake.start()
    except OSError as error:  # the port is taken, or not ours to bind
        reason = error.strerror or str(error)
        sys.stderr.write(
            f"error: cannot serve on 127.0.0.1:{options.port}: {reason}; "
            "choose another --port, or --port 0 for a free one\n"
        )
        return 1
    sys.stdout.write(f"Duda fake on {fake.url} (counts: {fake.root}/_fake/stats)\n")
    sys.stdout.flush()
    if options.url_file:
        Path(options.url_file).write_text(fake.url + "\n", encoding="utf-8")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m duda.fake", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", action="append", default=[], help="a YAML or JSON seed file")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (default)")
    parser.add_argument("--url-file", help="write the base URL here once serving")
    parser.add_argument("--user-env", default="DUDA_API_USER")
    parser.add_argument("--password-env", default="DUDA_API_PASS")
    parser.add_argument("--rate-limit", type=int, default=10, help="per second; 0: no limit")
    parser.add_argument("--create-account-limit", type=int, default=60, help="per minute")
    for field, choices in _variant_choices().items():
        flag = "--" + field.replace("_", "-")
        parser.add_argument(flag, choices=choices, default=getattr(Variants(), field))
    return parser


def _variant_choices() -> dict[str, list[str]]:
    return {name: list(get_args(hint)) for name, hint in get_type_hints(Variants).items()}


def _variants(options: argparse.Namespace) -> Variants:
    return Variants(**{name: getattr(options, name) for name in _variant_choices()})


if __name__ == "__main__":
    sys.exit(main())
