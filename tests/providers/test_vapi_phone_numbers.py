"""VapiClient's phone-number lookups, against the simulator and a provider that fails as told."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrator.providers import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
    VapiClient,
)
from tests.support.numbers_provider import PROVIDER_KEY, CountingTransport, NumbersProvider
from tests.support.servers import serve
from tests.support.simulators import running


@pytest.fixture
def numbers() -> NumbersProvider:
    return NumbersProvider()


@pytest.fixture
def client(numbers: NumbersProvider) -> Iterator[VapiClient]:
    with (
        serve(numbers.app()) as base_url,
        VapiClient(base_url=base_url, api_key=PROVIDER_KEY, timeout=1.0) as vapi,
    ):
        yield vapi


def test_list_and_get_the_simulators_numbers() -> None:
    transport = CountingTransport()
    with (
        running(None, phone_numbers=("line-1", "line-2")) as sim,
        VapiClient(base_url=sim.base_url, api_key="k", transport=transport) as vapi,
    ):
        listed = vapi.list_phone_numbers()
        assert [number["id"] for number in listed] == ["line-2", "line-1"]
        assert vapi.get_phone_number("line-1") == listed[1]
        assert vapi.list_phone_numbers(limit=1) == listed[:1]
        later = {"createdAtGt": datetime(2100, 1, 1, tzinfo=UTC)}
        assert vapi.list_phone_numbers(bounds=later) == []
        with pytest.raises(ProviderRejected) as missing:
            vapi.get_phone_number("a/b?c")
    assert missing.value.status_code == 404
    assert transport.paths[-1] == "/phone-number/a%2Fb%3Fc"  # the id stays one path segment


def test_the_query_is_vapis(numbers: NumbersProvider) -> None:
    transport = CountingTransport()
    with (
        serve(numbers.app()) as base_url,
        VapiClient(base_url=base_url, api_key="k", transport=transport) as vapi,
    ):
        bounds = {
            "createdAtGe": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
            "updatedAtLt": datetime(2026, 2, 1, tzinfo=UTC),
        }
        vapi.list_phone_numbers(limit=7, bounds=bounds)
    assert transport.queries == [
        "limit=7&createdAtGe=2026-01-02T03%3A04%3A05.678Z&updatedAtLt=2026-02-01T00%3A00%3A00.000Z"
    ]


FAILURES: list[tuple[tuple[int, Any, dict[str, str]], type[ProviderError]]] = [
    ((503, {"message": "later"}, {}), ProviderServerError),
    ((429, {"message": "slow"}, {"Retry-After": "4"}), ProviderRateLimited),
    ((403, {"message": "no"}, {}), ProviderRejected),
    ((200, b"not json", {}), ProviderError),
    ((200, {"id": 7}, {}), ProviderError),
    ((200, [{"number": "+1"}], {}), ProviderError),
]


@pytest.mark.parametrize(("failure", "raised"), FAILURES)
def test_failures_map_to_provider_errors(
    numbers: NumbersProvider,
    client: VapiClient,
    failure: tuple[int, Any, dict[str, str]],
    raised: type[ProviderError],
) -> None:
    numbers.failure = failure
    for lookup in (client.list_phone_numbers, lambda: client.get_phone_number("x")):
        with pytest.raises(raised) as info:
            lookup()
        assert type(info.value) is raised


def test_a_slow_provider_times_out(numbers: NumbersProvider, client: VapiClient) -> None:
    numbers.delay = 1.5
    with pytest.raises(ProviderTimeout):
        client.list_phone_numbers()


def test_an_unreachable_provider() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        VapiClient(base_url=f"http://127.0.0.1:{port}", api_key=PROVIDER_KEY) as vapi,
        pytest.raises(ProviderUnreachable) as info,
    ):
        vapi.list_phone_numbers()
    assert PROVIDER_KEY not in str(info.value)


def test_the_key_never_leaks_from_a_lookup_error(
    numbers: NumbersProvider, client: VapiClient
) -> None:
    numbers.failure = (401, {"message": f"key {PROVIDER_KEY} unknown"}, {})
    with pytest.raises(ProviderRejected) as info:
        client.get_phone_number("x")
    assert info.value.message == "key [redacted] unknown"
    assert PROVIDER_KEY not in repr(info.value)
