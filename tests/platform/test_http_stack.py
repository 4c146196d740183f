"""requests is imported without importlib.metadata, and nothing that asks for it
notices (each case in a new interpreter: the import happens once per process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_requests_comes_without_importlib_metadata() -> None:
    shown = run(
        """
        import sys
        import reconciler.platform.http_stack
        print("requests" in sys.modules, "urllib3.http2" in sys.modules,
              "importlib.metadata" in sys.modules)
        """
    )

    assert shown == "True True False"


def test_urllib3s_version_check_still_answers_from_the_metadata() -> None:
    shown = run(
        """
        import reconciler.platform.http_stack
        import requests
        import urllib3.http2
        print(urllib3.http2.version("requests") == requests.__version__)
        """
    )

    assert shown == "True"


def test_importing_importlib_metadata_afterwards_gives_the_real_module() -> None:
    shown = run(
        """
        import reconciler.platform.http_stack
        import importlib.metadata
        import types
        print(type(importlib.metadata) is types.ModuleType,
              importlib.metadata.version("requests") != "",
              callable(importlib.metadata.entry_points))
        """
    )

    assert shown == "True True True"


@pytest.mark.parametrize("name", ["entry_points", "distribution", "PackageNotFoundError"])
def test_any_other_name_asked_meanwhile_loads_the_real_module(name: str) -> None:
    """As when a later urllib3 imports more of importlib.metadata, or another thread
    imports it while requests is being imported."""
    shown = run(
        f"""
        import sys
        import types
        from reconciler.platform.http_stack import metadata_deferred, real_metadata

        del sys.modules["urllib3"]  # as if urllib3 were still to come
        with metadata_deferred():
            import importlib.metadata as during
            value = getattr(during, "{name}")
        real = sys.modules["importlib.metadata"]
        print(type(real) is types.ModuleType, value is getattr(real, "{name}"),
              real_metadata() is real)
        """
    )

    assert shown == "True True True"


def test_requests_comes_without_charset_normalizer_but_with_its_version() -> None:
    shown = run(
        """
        import sys
        import warnings
        warnings.simplefilter("error")  # requests warns of a charset_normalizer it doubts
        import reconciler.platform.http_stack
        import requests.compat
        print("charset_normalizer" in sys.modules, requests.compat.chardet is not None)
        import charset_normalizer
        print(requests.compat.chardet.__version__ == charset_normalizer.__version__)
        """
    )

    assert shown == "False True\nTrue"


def test_a_body_without_a_charset_is_still_read_as_text() -> None:
    """``Response.text`` without an encoding asks charset_normalizer: the real one."""
    shown = run(
        """
        import sys
        import types
        import reconciler.platform.http_stack
        import requests

        response = requests.Response()
        response._content = "Bäckerei Müller, Größe: 3 Brötchen".encode("utf-8")
        print(response.encoding is None, response.text == "Bäckerei Müller, Größe: 3 Brötchen")
        print(type(sys.modules["charset_normalizer"]) is types.ModuleType)
        """
    )

    assert shown == "True True\nTrue"
