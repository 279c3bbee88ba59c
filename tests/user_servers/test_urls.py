from __future__ import annotations

import ipaddress
import socket

import pytest

from orchestrator.user_servers.urls import is_internal, resolved_problem, server_url_problems


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_internal_addresses_are_refused_unless_allowed(url: str) -> None:
    problems = server_url_problems(url, allow_private=False)
    assert problems and "ORCH_ALLOW_PRIVATE_SERVER_URLS" in problems[0]
    assert server_url_problems(url, allow_private=True) == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/hook", "must be an http or https URL"),
        ("file:///etc/passwd", "must be an http or https URL"),
        ("example.com/hook", "must be an http or https URL"),
        ("https:///hook", "must name a host"),
        ("https://user:pw@example.com/hook", "must not carry credentials (use server.headers)"),
        ("https://example.com:99999/hook", "must be a valid URL"),
    ],
)
def test_urls_that_are_not_servers_are_refused_even_when_private_ones_are_allowed(
    url: str, problem: str
) -> None:
    assert server_url_problems(url, allow_private=True) == [problem]


def test_public_urls_pass() -> None:
    assert server_url_problems("https://hooks.example.com/vapi?x=1", allow_private=False) == []
    assert server_url_problems("http://93.184.216.34:8080/", allow_private=False) == []


def test_a_name_is_judged_by_the_addresses_it_resolves_to_when_sending() -> None:
    # The machine's own name is not caught by its spelling, only by where it resolves.
    host = socket.gethostname()
    url = f"http://{host}/hook"
    assert server_url_problems(url, allow_private=False) == []
    addresses = {info[4][0] for info in socket.getaddrinfo(host, 80)}
    internal = any(is_internal(ipaddress.ip_address(str(a).split("%")[0])) for a in addresses)
    problem = resolved_problem(url, allow_private=False)
    assert (problem is not None) == internal
    assert resolved_problem(url, allow_private=True) is None


def test_a_name_that_does_not_resolve_is_not_sent_to() -> None:
    problem = resolved_problem("http://nowhere.invalid/hook", allow_private=False)
    assert problem == "could not resolve nowhere.invalid"
