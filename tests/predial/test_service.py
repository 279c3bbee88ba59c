"""How long a failed check waits before it is asked again (``onError: "retry"``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestrator.predial.service import RETRY_CAP, retry_delay


@pytest.mark.parametrize(
    ("retries", "seconds"), [(1, 5), (2, 10), (3, 20), (6, 160), (7, 300), (12, 300)]
)
def test_retries_back_off_doubling_up_to_five_minutes(retries: int, seconds: int) -> None:
    assert retry_delay(retries) == timedelta(seconds=seconds)
    assert retry_delay(retries) <= RETRY_CAP
