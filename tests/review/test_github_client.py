"""The GitHub REST client (githubkit): configuration from the environment, the endpoints
of DESIGN.md section 8, pagination, rate limits, errors, and a fake that cannot drift."""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import githubkit.core
import pytest
from fake_github import TOKEN, FakeGitHub, example, payload, pull, review
from githubkit_schemas.v2022_11_28.models import (
    PullRequestReview,
    PullRequestSimple,
    RepositoryCollaboratorPermission,
)
from pydantic import ValidationError

from reconciler.errors import ConfigError
from reconciler.review.github import DEFAULT_API_URL, GitHubClient, GitHubError, PullRequest, Review

ENVIRON = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "pixel/sites"}


@pytest.mark.parametrize("missing", ["GITHUB_TOKEN", "GITHUB_REPOSITORY"])
def test_a_missing_variable_is_named(missing: str) -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != missing}
    with pytest.raises(ConfigError, match=f"^{missing} is not set"):
        GitHubClient.from_environ(environ)


def test_an_empty_token_counts_as_missing() -> None:
    with pytest.raises(ConfigError, match=r"^GITHUB_TOKEN is not set"):
        GitHubClient.from_environ({**ENVIRON, "GITHUB_TOKEN": "  "})


def test_the_api_url_defaults_to_github_com() -> None:
    with GitHubClient.from_environ(ENVIRON) as client:
        assert client.api_url == DEFAULT_API_URL
        assert client.repository == "pixel/sites"
        assert TOKEN not in repr(client)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:9",
        "https://ghe.example/api/v3/",
    ],
)
def test_https_or_loopback_http_is_accepted(url: str) -> None:
    with GitHubClient.from_environ({**ENVIRON, "GITHUB_API_URL": url}) as client:
        assert client.api_url == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://ghe.example/api/v3", "uses plain http; the token would travel unencrypted"),
        ("ftp://ghe.example", "must be an http(s) URL"),
        ("https://user:pw@ghe.example", "must not carry credentials"),
    ],
)
def test_an_unsafe_api_url_is_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        GitHubClient.from_environ({**ENVIRON, "GITHUB_API_URL": url})


@pytest.mark.parametrize("repository", ["pixel", "pixel/sites/extra", "/sites", "pixel/ sites"])
def test_a_malformed_repository_is_refused(repository: str) -> None:
    with pytest.raises(ConfigError, match="GITHUB_REPOSITORY must be owner/name"):
        GitHubClient.from_environ({**ENVIRON, "GITHUB_REPOSITORY": repository})


def test_pull_requests_of_a_commit(github: FakeGitHub) -> None:
    github.pulls["abc123"] = [pull(12, "alice"), pull(13, "bob", merged=False, base="staging")]

    with GitHubClient.from_environ(github.environ) as client:
        pulls = client.pulls_for_commit("abc123")

    assert pulls == [
        PullRequest(12, "alice", "closed", merged_at="2024-03-10T12:00:00Z", base_ref="main"),
        PullRequest(13, "bob", "open", merged_at=None, base_ref="staging"),
    ]
    assert github.requests == ["/repos/pixel/sites/commits/abc123/pulls"]
    assert github.auth_headers == [f"token {TOKEN}"]


def test_one_pull_request_the_default_branch_a_permission_and_a_file(github: FakeGitHub) -> None:
    github.pulls["abc123"] = [pull(12, "alice", base="staging")]
    github.default_branch = "trunk"
    github.permissions = {"bob": "maintain", "eve": "read"}
    github.files[("sites/acme.yaml", "abc123")] = "id: acme\nowner: anna@acme.example\n"

    with GitHubClient.from_environ(github.environ) as client:
        assert client.pull(12).base_ref == "staging"
        assert client.default_branch() == "trunk"
        assert [client.permission(who) for who in ("bob", "eve", "mallory")] == [
            "maintain",
            "read",
            "none",
        ]
        assert client.file_at("sites/acme.yaml", "abc123") == "id: acme\nowner: anna@acme.example\n"
        assert client.file_at("sites/acme.yaml", "def456") is None


def test_reviews_are_read_across_pages(github: FakeGitHub) -> None:
    github.page_size = 2
    github.reviews[12] = [review(f"reviewer{i}", "COMMENTED", "c0ffee") for i in range(5)]
    github.reviews[12].append(review("dependabot[bot]", "APPROVED", "c0ffee", bot=True))

    with GitHubClient.from_environ(github.environ) as client:
        reviews = client.reviews(12)

    assert [r.reviewer for r in reviews] == [*(f"reviewer{i}" for i in range(5)), "dependabot[bot]"]
    assert reviews[0] == Review("reviewer0", "COMMENTED", "c0ffee", False, "2024-03-09T12:00:00Z")
    assert reviews[-1].is_bot
    assert github.requests == ["/repos/pixel/sites/pulls/12/reviews"] * 3


def test_a_next_page_on_another_host_is_not_followed(github: FakeGitHub) -> None:
    github.page_size = 1
    github.reviews[12] = [review("bob", "APPROVED"), review("carol", "APPROVED")]
    github.next_link = "https://evil.example/steal?page=2"

    with GitHubClient.from_environ(github.environ) as client, pytest.raises(GitHubError) as raised:
        client.reviews(12)

    assert "next-page link points to another host (https://evil.example)" in raised.value.message
    assert len(github.requests) == 1


# --- rate limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (429, {"Retry-After": "1"}),
        (403, {"Retry-After": "1"}),  # a secondary rate limit
        (
            403,
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "{reset}"},
        ),  # the primary limit
        (
            403,
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "{past}"},
        ),  # a reset already past (clock skew): wait a second, not githubkit's 60
    ],
    ids=["429-retry-after", "403-retry-after", "403-remaining-0", "403-reset-past"],
)
def test_a_rate_limit_is_waited_out(
    github: FakeGitHub, status: int, headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    reset, past = str(int(time.time()) + 1), str(int(time.time()) - 30)
    values = {k: v.format(reset=reset, past=past) for k, v in headers.items()}
    github.rate_limited = [(status, values)]
    github.pulls["abc123"] = [pull(12, "alice")]
    # githubkit sleeps between its retries itself and takes no sleeper: its module's
    # `time` is the only seam (and its only use of `time` is that sleep).
    slept: list[float] = []
    monkeypatch.setattr(githubkit.core, "time", SimpleNamespace(sleep=slept.append))

    with GitHubClient.from_environ(github.environ, max_wait=5) as client:
        pulls = client.pulls_for_commit("abc123")
        waited = client.rate_limit.waited

    assert [p.number for p in pulls] == [12]
    assert len(github.requests) == 2
    assert 1 <= waited <= 2  # what GitHub asked for, at least a second
    assert slept == [waited]  # what githubkit slept: never its 60 s fallback


def test_a_rate_limit_beyond_the_bound_is_an_error_that_says_so(github: FakeGitHub) -> None:
    github.rate_limited = [(429, {"Retry-After": "1"}), (429, {"Retry-After": "3600"})]

    with (
        GitHubClient.from_environ(github.environ, max_wait=2) as client,
        pytest.raises(GitHubError) as raised,
    ):
        client.pulls_for_commit("abc123")

    assert raised.value.message == (
        "GitHub's rate limit stops GET /repos/pixel/sites/commits/abc123/pulls: it asks to "
        "wait 3600 s more, beyond the 2 s this run waits in all (waited 1 s); run again later"
    )
    assert raised.value.status == 429


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            500,
            "GitHub answered 500 Internal Server Error for GET /repos/pixel/sites/pulls/7/"
            "reviews (Server Error): GitHub failed; try again later",
        ),
        (
            503,
            "GitHub answered 503 Service Unavailable for GET /repos/pixel/sites/pulls/7/"
            "reviews (Server Error): GitHub failed; try again later",
        ),
        (
            403,
            "GitHub answered 403 Forbidden for GET /repos/pixel/sites/pulls/7/reviews "
            "(Server Error): the token may not read this repository's pull requests",
        ),
    ],
)
def test_errors_name_the_request(github: FakeGitHub, status: int, expected: str) -> None:
    github.fail_with = status
    with GitHubClient.from_environ(github.environ) as client, pytest.raises(GitHubError) as raised:
        client.reviews(7)

    assert raised.value.message.startswith(expected)
    assert raised.value.status == status


def test_a_refused_token_is_explained_but_never_shown(
    github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    environ = {**github.environ, "GITHUB_TOKEN": "ghs_wrong-token"}
    with GitHubClient.from_environ(environ) as client, pytest.raises(GitHubError) as raised:
        client.pulls_for_commit("abc123")

    assert raised.value.message == (
        "GitHub answered 401 Unauthorized for GET /repos/pixel/sites/commits/abc123/pulls "
        "(Bad credentials): check GITHUB_TOKEN: it is missing, expired or revoked"
    )
    assert "ghs_wrong-token" not in caplog.text
    assert TOKEN not in caplog.text


def test_credentials_github_quotes_back_are_cut(
    github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    github.fail_with = 502
    github.fail_message = f"proxy saw Authorization: Bearer {TOKEN} and Basic dXNlcjpwdw=="
    with GitHubClient.from_environ(github.environ) as client, pytest.raises(GitHubError) as raised:
        client.reviews(7)

    assert "(proxy saw Authorization: Bearer *** and Basic ***)" in raised.value.message
    assert "dXNlcjpwdw==" not in raised.value.message + caplog.text
    assert TOKEN not in raised.value.message + caplog.text


def test_an_unreachable_github_is_an_error_not_a_traceback() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    environ = {**ENVIRON, "GITHUB_API_URL": f"http://127.0.0.1:{port}"}
    with GitHubClient.from_environ(environ) as client, pytest.raises(GitHubError) as raised:
        client.pulls_for_commit("abc123")

    assert raised.value.message == (
        f"could not reach GitHub at http://127.0.0.1:{port} for GET "
        "/repos/pixel/sites/commits/abc123/pulls: ConnectError"
    )


def test_an_answer_that_misses_a_required_field_is_refused(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_state(spec: Any, index: int) -> dict[str, Any]:
        answer = FakeGitHub.review_payload(github, spec, index)
        del answer["state"]
        return answer

    monkeypatch.setattr(github, "review_payload", without_state)
    github.reviews[7] = [review("bob", "APPROVED", "c0ffee")]

    with GitHubClient.from_environ(github.environ) as client, pytest.raises(GitHubError) as raised:
        client.reviews(7)

    assert raised.value.message == (
        "GitHub answered GET /repos/pixel/sites/pulls/7/reviews with a body that does not "
        "match its REST description (0.state: Field required)"
    )


# --- the fake itself -------------------------------------------------------------------


def test_the_fake_carries_every_field_github_marks_required() -> None:
    for model in (PullRequestSimple, PullRequestReview):
        required = model.model_json_schema(by_alias=True)["required"]
        assert set(required) <= set(example(model)), model.__name__
    with pytest.raises(ValidationError, match="state"):
        payload(PullRequestReview, state=None)  # a wrong type fails where the fake makes it


# --- decision fields only (DESIGN.md section 8) ---------------------------------------


def test_the_older_fake_leaves_out_what_an_older_release_does_not_send(
    github: FakeGitHub,
) -> None:
    github.release = "older"
    pulled = github.pull_payload(pull(12, "alice"), simple=False)
    listed = github.pull_payload(pull(12, "alice"), simple=True)
    permission = github.permission_payload("bob", "maintain")

    for answer in (pulled, listed):
        assert answer["labels"], "the fake's pull requests carry a label"
        assert "archived_by" not in answer["labels"][0]
        assert answer["requested_teams"], "and a requested team"
        assert "type" not in answer["requested_teams"][0]
    assert "role_name" not in permission
    assert "role_name" not in permission["user"]
    with pytest.raises(ValidationError):
        RepositoryCollaboratorPermission.model_validate(permission)  # not today's shape


def test_answers_of_an_older_release_are_read(github: FakeGitHub) -> None:
    """An older GitHub Enterprise Server release of API version 2022-11-28 sends no
    label `archived_by`, no team `type`, no `role_name`: none of them decides anything."""
    github.release = "older"
    github.pulls["abc123"] = [pull(12, "alice", merge_commit_sha="d" * 40)]
    github.reviews[12] = [review("bob", "APPROVED", "c0ffee")]
    github.permissions = {"bob": "maintain", "eve": "triage"}

    with GitHubClient.from_environ(github.environ) as client:
        assert client.pulls_for_commit("abc123") == [
            PullRequest(12, "alice", "closed", "2024-03-10T12:00:00Z", "main", "d" * 40)
        ]
        assert client.pull(12).merge_commit_sha == "d" * 40
        assert [r.reviewer for r in client.reviews(12)] == ["bob"]
        # Without role_name, `permission` says what the role is based on.
        assert client.permission("bob") == "write"
        assert client.permission("eve") == "read"


def test_a_pull_request_whose_fork_was_deleted_is_read(github: FakeGitHub) -> None:
    github.pulls["abc123"] = [pull(12, "alice", fork_deleted=True)]

    with GitHubClient.from_environ(github.environ) as client:
        assert [p.number for p in client.pulls_for_commit("abc123")] == [12]
        assert client.pull(12).base_ref == "main"


def test_only_the_decision_fields_are_needed(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers that hold the decision fields and nothing else are complete ones."""
    kept: dict[str, dict[str, Any]] = {
        "repository": {"default_branch": "trunk"},
        "pull": {
            "number": 12,
            "user": {"login": "alice", "type": "User"},
            "merged_at": "2024-03-10T12:00:00Z",
            "base": {"ref": "trunk"},
            "merge_commit_sha": None,
            "head": {"sha": "c0ffee"},
        },
        "review": {
            "id": 7,
            "user": {"login": "bob", "type": "User"},
            "state": "APPROVED",
            "commit_id": "c0ffee",
            "submitted_at": "2024-03-09T12:00:00Z",
        },
        "permission": {"permission": "admin"},
        "file": {"content": base64.b64encode(b"id: acme\n").decode(), "encoding": "base64"},
    }
    for attribute, name in [
        ("repository_payload", "repository"),
        ("pull_payload", "pull"),
        ("review_payload", "review"),
        ("permission_payload", "permission"),
        ("content_payload", "file"),
    ]:
        monkeypatch.setattr(github, attribute, lambda *_, name=name, **__: kept[name])
    github.pulls["abc123"] = [pull(12, "alice")]
    github.reviews[12] = [review("bob", "APPROVED", "c0ffee")]
    github.permissions = {"bob": "admin"}
    github.files[("sites/acme.yaml", "c0ffee")] = "id: acme\n"

    with GitHubClient.from_environ(github.environ) as client:
        assert client.default_branch() == "trunk"
        assert client.pulls_for_commit("abc123") == [
            PullRequest(12, "alice", "", "2024-03-10T12:00:00Z", "trunk")
        ]
        assert client.pull(12).author == "alice"
        assert client.reviews(12) == [
            Review("bob", "APPROVED", "c0ffee", False, "2024-03-09T12:00:00Z")
        ]
        assert client.permission("bob") == "admin"
        assert client.file_at("sites/acme.yaml", "c0ffee") == "id: acme\n"


@pytest.mark.parametrize(
    ("endpoint", "drop", "where"),
    [
        ("repository", ("default_branch",), "default_branch: Field required"),
        ("commit-pulls", ("number",), "0.number: Field required"),
        ("commit-pulls", ("user", "login"), "0.user.login: Field required"),
        ("commit-pulls", ("user", "type"), "0.user.type: Field required"),
        ("commit-pulls", ("merged_at",), "0.merged_at: Field required"),
        ("commit-pulls", ("base", "ref"), "0.base.ref: Field required"),
        ("pull", ("merge_commit_sha",), "merge_commit_sha: Field required"),
        ("pull", ("head", "sha"), "head.sha: Field required"),
        ("reviews", ("id",), "0.id: Field required"),
        ("reviews", ("user", "type"), "0.user.type: Field required"),
        ("reviews", ("commit_id",), "0.commit_id: Field required"),
        ("permission", ("permission",), "permission: Field required"),
        ("file", ("content",), "content: Field required"),
        ("file", ("encoding",), "encoding: Field required"),
    ],
)
def test_a_missing_decision_field_is_a_refusal_that_names_it(
    github: FakeGitHub, endpoint: str, drop: tuple[str, ...], where: str
) -> None:
    def dropped(answer: dict[str, Any]) -> dict[str, Any]:
        inner = answer
        for key in drop[:-1]:
            inner = inner[key]
        del inner[drop[-1]]
        return answer

    call, request = _serve_one(github, endpoint, dropped)
    with GitHubClient.from_environ(github.environ) as client, pytest.raises(GitHubError) as raised:
        call(client)

    assert raised.value.message == (
        f"GitHub answered GET {request} with a body that does not match its REST "
        f"description ({where})"
    )


@pytest.mark.parametrize(
    ("endpoint", "field", "value", "where"),
    [
        ("repository", "default_branch", None, "default_branch: Input should be a valid string"),
        ("commit-pulls", "number", "12", "0.number: Input should be a valid integer"),
        (
            "commit-pulls",
            "merged_at",
            "soon",
            "0.merged_at: Input should be a valid datetime or date, input is too short",
        ),
        ("pull", "base", "main", "base: Input should be an object"),
        (
            "pull",
            "user",
            {"login": 7, "type": "User"},
            "user.login: Input should be a valid string",
        ),
        ("reviews", "state", 1, "0.state: Input should be a valid string"),
        (
            "reviews",
            "submitted_at",
            "soon",
            "0.submitted_at: Input should be a valid datetime or date, input is too short",
        ),
        ("permission", "role_name", 5, "role_name: Input should be a valid string"),
        ("file", "encoding", "none", "encoding: Input should be 'base64'"),
    ],
)
def test_a_malformed_decision_field_is_a_refusal_that_names_it(
    github: FakeGitHub, endpoint: str, field: str, value: Any, where: str
) -> None:
    call, request = _serve_one(github, endpoint, lambda answer: {**answer, field: value})
    with GitHubClient.from_environ(github.environ) as client, pytest.raises(GitHubError) as raised:
        call(client)

    assert raised.value.message == (
        f"GitHub answered GET {request} with a body that does not match its REST "
        f"description ({where})"
    )


def test_a_listing_that_is_not_a_list_is_refused(github: FakeGitHub) -> None:
    github.pulls["abc123"] = [pull(12, "alice")]
    github._page = lambda path, items, query: (200, {"items": items}, {})  # type: ignore[method-assign]

    with GitHubClient.from_environ(github.environ) as client, pytest.raises(GitHubError) as raised:
        client.pulls_for_commit("abc123")

    assert raised.value.message == (
        "GitHub answered GET /repos/pixel/sites/commits/abc123/pulls with a body that does "
        "not match its REST description (the body: Input should be a valid list)"
    )


def test_a_field_on_a_later_page_is_named_by_its_place_in_the_listing(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    github.page_size = 2
    github.reviews[7] = [review(f"r{i}", "COMMENTED", "c0ffee") for i in range(3)]

    def broken_third(spec: Any, index: int) -> dict[str, Any]:
        answer = FakeGitHub.review_payload(github, spec, index)
        if index == 2:
            del answer["state"]
        return answer

    monkeypatch.setattr(github, "review_payload", broken_third)
    with GitHubClient.from_environ(github.environ) as client, pytest.raises(GitHubError) as raised:
        client.reviews(7)

    assert raised.value.message.endswith("(2.state: Field required)")


Call = Callable[[GitHubClient], object]


def _serve_one(
    github: FakeGitHub, endpoint: str, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> tuple[Call, str]:
    """Serve one endpoint's answer changed by ``change``: the call and its request."""
    github.pulls["abc123"] = [pull(12, "alice")]
    github.reviews[12] = [review("bob", "APPROVED", "c0ffee")]
    github.permissions = {"bob": "write"}
    github.files[("sites/acme.yaml", "c0ffee")] = "id: acme\n"
    attribute = {
        "repository": "repository_payload",
        "commit-pulls": "pull_payload",
        "pull": "pull_payload",
        "reviews": "review_payload",
        "permission": "permission_payload",
        "file": "content_payload",
    }[endpoint]
    real: Callable[..., dict[str, Any]] = getattr(github, attribute)

    def changed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = real(*args, **kwargs)
        if endpoint in ("commit-pulls", "pull") and kwargs.get("simple") != (
            endpoint == "commit-pulls"
        ):
            return answer
        return change(json.loads(json.dumps(answer)))

    setattr(github, attribute, changed)
    calls: dict[str, tuple[Call, str]] = {
        "repository": (lambda c: c.default_branch(), "/repos/pixel/sites"),
        "commit-pulls": (
            lambda c: c.pulls_for_commit("abc123"),
            "/repos/pixel/sites/commits/abc123/pulls",
        ),
        "pull": (lambda c: c.pull(12), "/repos/pixel/sites/pulls/12"),
        "reviews": (lambda c: c.reviews(12), "/repos/pixel/sites/pulls/12/reviews"),
        "permission": (
            lambda c: c.permission("bob"),
            "/repos/pixel/sites/collaborators/bob/permission",
        ),
        "file": (
            lambda c: c.file_at("sites/acme.yaml", "c0ffee"),
            "/repos/pixel/sites/contents/sites/acme.yaml?ref=c0ffee",
        ),
    }
    return calls[endpoint]
