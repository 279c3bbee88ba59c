"""``GET /campaign`` paging at its bounds: a page whose first row lies past what Postgres can
count is a 400 in Vapi's shape, naming the bound, never a database error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from orchestrator.campaigns.schemas import MAX_PAGE
from tests.factories import post_campaign
from tests.support.errors import error_messages

BIGINT_MAX = 2**63 - 1


def test_the_last_page_there_can_be_is_answered(api: TestClient, auth: dict[str, str]) -> None:
    post_campaign(api, auth, customers=1)

    response = api.get("/campaign", params={"page": MAX_PAGE, "limit": 1000}, headers=auth)

    assert response.status_code == 200, response.text
    assert response.json()["results"] == []
    assert response.json()["metadata"]["currentPage"] == MAX_PAGE
    assert (MAX_PAGE - 1) * 1000 <= BIGINT_MAX


@pytest.mark.parametrize("page", [MAX_PAGE + 1, 122_117_760_525_317_968, BIGINT_MAX, 2**64, 10**30])
def test_a_page_past_the_last_is_a_400(api: TestClient, auth: dict[str, str], page: int) -> None:
    response = api.get("/campaign", params={"page": page}, headers=auth)

    assert error_messages(response, 400) == [f"page must not be greater than {MAX_PAGE}"]


def test_every_paging_problem_is_listed_at_once(api: TestClient, auth: dict[str, str]) -> None:
    response = api.get("/campaign", params={"page": 10**30, "limit": 1001}, headers=auth)

    assert error_messages(response, 400) == [
        "limit must not be greater than 1000",
        f"page must not be greater than {MAX_PAGE}",
    ]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"page": 0}, "page must not be less than 1"),
        ({"limit": -1}, "limit must not be less than 0"),
    ],
)
def test_paging_below_its_bounds_is_a_400(
    api: TestClient, auth: dict[str, str], params: dict[str, int], problem: str
) -> None:
    response = api.get("/campaign", params=params, headers=auth)

    assert error_messages(response, 400) == [problem]
