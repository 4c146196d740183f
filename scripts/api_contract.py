"""``make contract``: schemathesis' CLI, every check on, against a served sandbox.

Seeds a fresh database from ``sandbox.seed.yaml`` (plus a pending transfer to Anna for
each of accept, decline and cancel), serves it with ``reconciler sandbox serve`` on a
free port of 127.0.0.1, runs ``schemathesis run`` on its /openapi.json with a fixed seed
and a bounded number of examples per operation, then stops the server.
``api_contract.toml`` beside this script gives the tokens (the expert's; the recipient's
for accepting and declining) and says which answers count as accepting a valid request.

Then, from schemathesis' HAR report, it counts the successful (2xx) answers of each
operation of the document: every operation must have been reached in success at least
once. Exits 0 only when schemathesis found nothing and every operation succeeded.

    python scripts/api_contract.py [--max-examples N] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "scripts" / "api_contract.toml"
EXPERT = "studio@pixel.example"  # sandbox.seed.yaml's expert and a client with a token
RECIPIENT = "anna@acme-bakery.example"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="api-contract-") as tmp:
        db = Path(tmp) / "sandbox.db"
        reconciler = str(bin_dir / "reconciler")
        seed = [reconciler, "sandbox", "seed", str(ROOT / "sandbox.seed.yaml"), "--db", str(db)]
        subprocess.run(seed, check=True, stdout=subprocess.DEVNULL)
        environ = {**os.environ, **_pending_transfers(db)}
        port = _free_port()
        server = subprocess.Popen(
            [reconciler, "sandbox", "serve", "--port", str(port), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_serving(url, server)
            har = Path(tmp) / "requests.har"
            command = [
                str(bin_dir / "schemathesis"), "--config-file", str(CONFIG),
                "run", f"{url}/openapi.json",
                "--checks", "all",
                "--report", "har", "--report-har-path", str(har),
                "--seed", str(options.seed),
                "--max-examples", str(options.max_examples),
                "--generation-database", "none",
                "--workers", "1",
                "--no-color",
            ]  # fmt: skip
            code = subprocess.run(command, cwd=ROOT, env=environ, check=False).returncode
            return code or _every_operation_succeeded(har)
        finally:
            server.terminate()
            server.wait(timeout=15)


def _pending_transfers(db: Path) -> dict[str, str]:
    """A transfer from the expert to Anna for each of accept, decline and cancel to
    succeed on; their ids, as the variables api_contract.toml names."""
    from reconciler.sandbox.store import SandboxStore

    ids = {}
    with SandboxStore(db) as store:
        for answer, site in (("ACCEPT", "bistro-verde"), ("DECLINE", "pixel-studio"),
                             ("CANCEL", "old-shop")):  # fmt: skip
            with store.transaction() as tx:
                transfer, _ = tx.start_transfer(EXPERT, site, RECIPIENT, False, None)
            ids[f"CONTRACT_{answer}_TRANSFER"] = transfer.id
    return ids


def _every_operation_succeeded(har: Path) -> int:
    """Print each operation's successful answers; 1 if any operation had none."""
    from reconciler.sandbox.api import Api
    from reconciler.sandbox.openapi import document
    from reconciler.sandbox.store import SandboxStore

    with SandboxStore(Path(":memory:")) as store:
        api = Api(store)
        successes = {
            (method.upper(), path): 0
            for path, item in document()["paths"].items()
            for method in item
        }
        for entry in json.loads(har.read_text())["log"]["entries"]:
            request, status = entry["request"], entry["response"]["status"]
            target = request["url"].split("//", 1)[1].partition("/")[2].partition("?")[0]
            match = api.match(request["method"], "/" + target)
            key = (request["method"], match.template)
            if key in successes and 200 <= status < 300:
                successes[key] += 1
    print("\nSuccessful answers by operation:")
    for (method, path), count in successes.items():
        print(f"  {count:5d}  {method} {path}")
    missing = [f"{method} {path}" for (method, path), count in successes.items() if not count]
    if missing:
        print("Never reached in success: " + ", ".join(missing))
    return 1 if missing else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_serving(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the sandbox exited with {server.returncode} before serving")
        try:
            with urllib.request.urlopen(f"{url}/sandbox/stats", timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the sandbox did not serve within 30 s")


if __name__ == "__main__":
    sys.exit(main())
