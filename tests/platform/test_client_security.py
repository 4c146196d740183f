"""The token stays secret; plain http only to loopback; clear configuration errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests
from platform_support import FAST_RETRY, STUDIO, TOKENS, seed

from reconciler.errors import ConfigError
from reconciler.model import Package
from reconciler.platform.client import PlatformClient
from reconciler.platform.config import PlatformConfig
from reconciler.platform.errors import PlatformError
from reconciler.platform.pacing import Pacer
from reconciler.platform.transport import new_session
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.server import ThreadedSandbox
from support.clock import VirtualTime

TOKEN = TOKENS[STUDIO]


@pytest.mark.parametrize(
    "url", ["http://platform.example/api", "http://10.0.0.8:8080", "http://127.0.0.1.nip.io"]
)
def test_plain_http_to_another_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        PlatformClient(url, TOKEN)
    assert "refusing to send the API token over plain http" in str(caught.value)
    assert "use an https:// URL" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["https://platform.example/api", "http://127.0.0.1:9", "http://localhost", "http://[::1]:80"],
)
def test_https_and_loopback_are_accepted(url: str) -> None:
    PlatformClient(url, TOKEN).close()


def test_ftp_is_not_a_platform_url() -> None:
    with pytest.raises(ConfigError, match="is not an http"):
        PlatformClient("ftp://platform.example", TOKEN)


def test_a_missing_token_variable_is_named() -> None:
    platform = PlatformConfig(url="https://platform.example/api", token_env="SITE_TOKEN")
    with pytest.raises(ConfigError) as caught:
        PlatformClient.from_config(platform, {})
    assert "the environment variable SITE_TOKEN is not set" in str(caught.value)
    client = PlatformClient.from_config(platform, {"SITE_TOKEN": TOKEN})
    assert client.base_url == "https://platform.example/api"
    client.close()


def test_the_token_never_shows(sandbox: ThreadedSandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []
    with SandboxClient(sandbox.url, TOKEN, retry=FAST_RETRY) as client:
        outputs += [repr(client), str(vars(client))]
        client.iter_sites().__next__()
        for failing in (lambda: client.get_site("nope"), lambda: client.invoices("zzz")):
            with pytest.raises(PlatformError) as caught:
                failing()
            outputs += [str(caught.value), repr(caught.value), repr(caught.value.problem)]
    outputs += [record.getMessage() for record in caplog.records]
    assert any("GET /v1/sites/nope -> 404" in line for line in outputs)
    assert not [line for line in outputs if TOKEN in line]


def test_the_token_never_shows_during_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    faults = FaultSpec.parse("error_rate=0.5,drop_rate=0.3,seed=3")
    clock = VirtualTime()  # the backoff between retries, on no wall clock
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    with ThreadedSandbox(tmp_path / "s.db", faults=faults) as sandbox:
        seed(sandbox)
        with PlatformClient(
            sandbox.url, TOKEN, retry=FAST_RETRY, sleep=clock.sleep, pacer=pacer
        ) as client:
            client.purchase("site-000", Package.PREMIUM)
    messages = [record.getMessage() for record in caplog.records]
    assert any("retrying" in message for message in messages)
    assert not [message for message in messages if TOKEN in message]


def test_a_netrc_entry_for_the_platform_does_not_replace_the_token(
    sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests fills in a request's credentials from ~/.netrc when it names none; the
    token header is ours, so a netrc entry for the host (kept for curl, say) would have
    replaced it with Basic credentials, and the platform would have refused them."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-the-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    with PlatformClient(sandbox.url, TOKEN, retry=FAST_RETRY) as client:
        assert client.me().email == STUDIO


def test_every_platform_session_keeps_its_own_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session that the Duda adapter shares: its Basic header is its own too."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.duda.co login someone password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    request = requests.Request(
        "GET", "https://api.duda.co/api/sites", headers={"Authorization": "Basic b3du"}
    )

    prepared = new_session().prepare_request(request)

    assert prepared.headers["Authorization"] == "Basic b3du"
