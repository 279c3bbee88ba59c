"""Fixtures of the chat and session tests: the API's provider is a chats provider over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.chats_provider import ChatsProvider, answering, serving


@pytest.fixture
def chats_provider(api: TestClient) -> Iterator[ChatsProvider]:
    with serving() as (provider, base_url), answering(api, base_url):
        yield provider
