"""``POST /campaign/{id}/customers`` (extension): customers appended to a campaign that has
not ended, from JSON or a CSV body, with creation's validation and de-duplication.

The rows are checked and COPY'd into a staging table as they arrive, and the database moves
those whose key is free into ``contacts`` a chunk at a time, while the next rows are read
(``staging``). Nothing holds more than a block of the body, nor anything of
the campaign's contacts. A second append to a campaign while one runs is refused (409)
rather than left waiting (``import_repository.try_lock_appends``). The campaign row is
locked only at the end, after the copy: the new contacts are invisible until the commit, so
the campaign could only have ended meanwhile (then the append is refused and nothing is
kept), and the scheduler is not held up while a million rows are written. No commits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository, repository
from orchestrator.campaigns.counters import counter_deltas
from orchestrator.campaigns.text_plans import (
    FOLLOW_UP_PLAN_EXTENSION,
    SMS_PLAN_EXTENSION,
    customer_template_errors,
)
from orchestrator.clock import utcnow
from orchestrator.contacts import import_repository
from orchestrator.contacts.csv_rows import RowProblem, csv_records
from orchestrator.contacts.import_repository import ChunkTarget
from orchestrator.contacts.importing import (
    SHOWN_PROBLEMS,
    CustomerCheck,
    ImportTally,
    Placement,
    Row,
    csv_rows,
    duplicate_problems,
    json_rows,
    new_contacts,
)
from orchestrator.contacts.staging import stage_and_move
from orchestrator.exceptions import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    id_or_not_found,
)
from orchestrator.models import Campaign, ContactStatus


@dataclass(frozen=True)
class AppendTarget:
    org_id: uuid.UUID
    campaign_id: str
    # onError=skip: the good rows are added, the others listed in the answer.
    skip_rejected: bool
    max_rows: int


def append_csv(
    session: Session, *, target: AppendTarget, blocks: Iterable[bytes]
) -> dict[str, Any]:
    """The customers of a CSV body (``csv_rows``), appended."""
    campaign = _open_campaign(session, target)
    columns, records = csv_records(blocks)
    tally = ImportTally(csv_rows=True, skip_rejected=target.skip_rejected)
    return _append(session, campaign, csv_rows(columns, records), target=target, tally=tally)


def append_json(session: Session, *, target: AppendTarget, customers: list[Any]) -> dict[str, Any]:
    """The customers of a JSON body (Vapi's customer objects), appended."""
    campaign = _open_campaign(session, target)
    if not customers:
        raise ValidationFailed(["customers should not be empty"])
    if len(customers) > target.max_rows:
        raise ValidationFailed([f"customers must contain no more than {target.max_rows} elements"])
    tally = ImportTally(csv_rows=False, skip_rejected=target.skip_rejected)
    return _append(session, campaign, json_rows(customers), target=target, tally=tally)


def _open_campaign(session: Session, target: AppendTarget) -> Campaign:
    """The campaign to append to, refused early when it cannot take customers, and held
    against other appends (before its body is read)."""
    campaign_id = id_or_not_found(target.campaign_id, message="Campaign not found")
    campaign = repository.get_campaign(session, org_id=target.org_id, campaign_id=campaign_id)
    if campaign is None:
        raise NotFound("Campaign not found")
    _check_open(campaign)
    if campaign.uses_dial_plan:
        raise ValidationFailed(
            ["customers cannot be appended to a campaign with a dialPlan: each entry has its own"]
        )
    if not import_repository.try_lock_appends(session, campaign_id=campaign.id):
        raise Conflict("another append to this campaign is under way: try again when it ends")
    return campaign


def _check_open(campaign: Campaign) -> None:
    if campaign.status not in repository.ACTIVE_STATUSES:
        raise ValidationFailed(
            [
                "customers can only be added to a campaign that has not ended: "
                f"it is {campaign.status}"
            ]
        )


def _append(
    session: Session,
    campaign: Campaign,
    rows: Iterator[Row],
    *,
    target: AppendTarget,
    tally: ImportTally,
) -> dict[str, Any]:
    read_as = _what_rows_depend_on(campaign)
    last = import_repository.last_position(session, campaign_id=campaign.id)
    placement = Placement(
        first_position=last, phone_number_id=campaign.phone_number_id, checks=_checks(campaign)
    )
    contacts = new_contacts(_at_most(rows, target.max_rows), placement=placement, tally=tally)
    target_rows = ChunkTarget(campaign.id, campaign.org_id, utcnow())
    # A savepoint: a refused append leaves nothing behind, whatever its caller does next.
    with session.begin_nested():
        zones = stage_and_move(
            session,
            target=target_rows,
            contacts=contacts,
            into_contacts=lambda: tally.skip_rejected or not tally.rejected,
        )
        tally.added, tally.zone_keys = sum(zones.values()), set(zones)
        tally.duplicates = tally.staged - tally.added
        if not tally.skip_rejected and (tally.rejected or tally.duplicates):
            _refuse_duplicates(session, campaign.id, last, tally)
        import_repository.drop_staging(session)
        _count_in(session, campaign.id, tally, read_as=read_as)
    return _answer(campaign.id, tally)


def _refuse_duplicates(
    session: Session, campaign_id: uuid.UUID, last_position: int, tally: ImportTally
) -> None:
    """Without onError=skip a duplicate is a problem of its row, as at creation: the append
    is refused, naming every problem."""
    duplicates, count = import_repository.staged_duplicates(
        session, campaign_id=campaign_id, last_position=last_position, limit=SHOWN_PROBLEMS
    )
    problems = duplicate_problems(duplicates, csv_rows=tally.csv_rows)
    tally.reject_duplicates(problems, count=count)
    raise ValidationFailed(tally.messages())


def _at_most(rows: Iterator[Row], limit: int) -> Iterator[Row]:
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise PayloadTooLarge(f"customers must contain no more than {limit} rows per request")
        yield row


def _checks(campaign: Campaign) -> list[CustomerCheck]:
    """A campaign that texts renders its templates for every customer, as creation does."""
    extensions = campaign.extensions or {}
    if SMS_PLAN_EXTENSION not in extensions and FOLLOW_UP_PLAN_EXTENSION not in extensions:
        return []
    overrides = campaign.assistant_overrides

    def templates_render(row: int, customer: dict[str, Any]) -> list[RowProblem]:
        errors = customer_template_errors(
            extensions=extensions, campaign_overrides=overrides, customer=customer
        )
        return [RowProblem(row, None, error) for error in errors]

    return [templates_render]


def _what_rows_depend_on(campaign: Campaign) -> str:
    """The settings the rows were checked and placed with: the caller number, the texts'
    templates and the overrides they render with."""
    settings = [campaign.phone_number_id, campaign.extensions, campaign.assistant_overrides]
    return json.dumps(settings, sort_keys=True)


def _count_in(
    session: Session, campaign_id: uuid.UUID, tally: ImportTally, *, read_as: str
) -> None:
    """Under the campaign's row lock: it has not ended nor changed what the rows depend on
    meanwhile (a PATCH during a long upload); its audience and counters take the new
    contacts in."""
    campaign = repository.lock_campaign(session, campaign_id=campaign_id)
    assert campaign is not None
    _check_open(campaign)
    if _what_rows_depend_on(campaign) != read_as:
        raise Conflict(
            "the campaign's phoneNumberId, assistantOverrides or texts changed while the "
            "customers were read: nothing was added, send them again"
        )
    if not tally.added:
        return
    campaign.contacts_total += tally.added
    campaign.contact_zone_keys = sorted(set(campaign.contact_zone_keys) | tally.zone_keys)
    callers = set(campaign.caller_number_ids)
    if campaign.phone_number_id is not None:
        callers.add(campaign.phone_number_id)
    campaign.caller_number_ids = sorted(callers)
    campaign.updated_at = utcnow()
    deltas = counter_deltas(contact_after=ContactStatus.PENDING) * tally.added
    counter_repository.bump_counters(session, campaign_id=campaign_id, deltas=deltas)
    session.flush()


def _answer(campaign_id: uuid.UUID, tally: ImportTally) -> dict[str, Any]:
    return {
        "campaignId": str(campaign_id),
        "added": tally.added,
        "duplicates": tally.duplicates,
        "rejected": tally.rejected,
        "errors": [
            {"row": problem.row, "column": problem.column, "reason": problem.reason}
            for problem in tally.problems
        ],
        "errorCount": tally.problem_count,
    }
