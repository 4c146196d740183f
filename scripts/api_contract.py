"""``make contract``: schemathesis' CLI, every check on, against a served sandbox.

Seeds a fresh database from ``sandbox.seed.yaml``, serves it with ``reconciler sandbox
serve`` on a free port of 127.0.0.1, runs ``schemathesis run`` on its /openapi.json with
a fixed seed and a bounded number of examples per operation, then stops the server.
Exits with schemathesis' exit code (0: it found nothing). ``schemathesis.toml`` says
which answers count as accepting a valid request.

    python scripts/api_contract.py [--max-examples N] [--seed N]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "studio-token"  # the expert's token in sandbox.seed.yaml


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
        port = _free_port()
        server = subprocess.Popen(
            [reconciler, "sandbox", "serve", "--port", str(port), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_serving(url, server)
            command = [
                str(bin_dir / "schemathesis"), "run", f"{url}/openapi.json",
                "--checks", "all",
                "--header", f"Authorization: Bearer {TOKEN}",
                "--seed", str(options.seed),
                "--max-examples", str(options.max_examples),
                "--generation-database", "none",
                "--workers", "1",
                "--no-color",
            ]  # fmt: skip
            return subprocess.run(command, cwd=ROOT, check=False).returncode
        finally:
            server.terminate()
            server.wait(timeout=15)


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
