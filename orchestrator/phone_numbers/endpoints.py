"""Caller numbers: Vapi's list and get paths (the provider's numbers), plus the pacing extension."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from orchestrator.db import SessionDep
from orchestrator.exceptions import error_responses
from orchestrator.orgs.auth import CallerDep
from orchestrator.phone_numbers import service
from orchestrator.phone_numbers.provider import ProviderNumbers, provider_numbers
from orchestrator.phone_numbers.schemas import (
    PacingIn,
    PacingRecordOut,
    PhoneNumberId,
    PhoneNumberListQuery,
    PhoneNumberOut,
    StoredPhoneNumberId,
)

router = APIRouter(tags=["Phone Numbers"])

ProviderDep = Annotated[ProviderNumbers, Depends(provider_numbers)]


@router.get(
    "/phone-number",
    response_model=list[PhoneNumberOut],
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 502, 503),
)
def list_phone_numbers(
    query: Annotated[PhoneNumberListQuery, Query()],
    caller: CallerDep,
    session: SessionDep,
    provider: ProviderDep,
) -> Any:
    return service.list_phone_numbers(session, org_id=caller.org_id, query=query, provider=provider)


@router.get(
    "/phone-number/{phone_number_id}",
    response_model=PhoneNumberOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404, 502, 503),
)
def get_phone_number(
    phone_number_id: PhoneNumberId, caller: CallerDep, session: SessionDep, provider: ProviderDep
) -> Any:
    return service.get_phone_number(
        session, org_id=caller.org_id, provider_id=phone_number_id, provider=provider
    )


@router.put(
    "/phone-number/{phone_number_id}/pacing",
    response_model=PacingRecordOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def set_pacing(
    phone_number_id: StoredPhoneNumberId, body: PacingIn, caller: CallerDep, session: SessionDep
) -> Any:
    return service.set_pacing(session, org_id=caller.org_id, provider_id=phone_number_id, body=body)
