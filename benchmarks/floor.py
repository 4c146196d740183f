"""The floor of `reconciler validate`: read the same files and compose them, nothing else.

    python benchmarks/floor.py ROOT

Reads reconciler.yaml, people.yaml and every ``sites/*.yaml`` of ROOT (sorted by name)
as UTF-8 text and composes each with ruamel.yaml's C loader (libyaml with positions on
every node), as validate must at least do; prints how many site files it read. Run as
its own process, interpreter start included, it is what validate is measured against.
"""

from __future__ import annotations

import os
import sys

from ruamel.yaml.cyaml import CSafeLoader


def compose(path: str) -> None:
    with open(path, "rb") as stream:
        text = stream.read().decode("utf-8")
    loader = CSafeLoader(text)
    try:
        loader.get_single_node()
    finally:
        loader.dispose()


def main() -> None:
    root = sys.argv[1]
    for name in ("reconciler.yaml", "people.yaml"):
        compose(os.path.join(root, name))
    with os.scandir(os.path.join(root, "sites")) as entries:
        names = sorted(entry.name for entry in entries if entry.name.endswith(".yaml"))
    for name in names:
        compose(os.path.join(root, "sites", name))
    print(len(names))


if __name__ == "__main__":
    main()
