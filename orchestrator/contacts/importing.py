"""Customers appended to a campaign, one at a time: de-duplicated, placed in dial order, and
their problems counted.

A duplicate is what creation calls one (``service.customer_key``): the same phone (number
and extension) or SIP URI, whether earlier in the request or already in the campaign. The
keys seen are kept (a million fit in about a hundred megabytes); the customers are not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from orchestrator.campaigns.schemas import CustomerIn
from orchestrator.contacts.csv_rows import CsvColumns, RowProblem, customer_of_row, problems_of
from orchestrator.contacts.service import NewContact
from orchestrator.scheduling.calling_hours.zone_key import contact_zone_key
from orchestrator.wire import E164_SHAPE

# Problems an answer lists one by one; the rest are counted.
SHOWN_PROBLEMS = 1_000
# The row a key of a contact already in the campaign is seen at.
ALREADY_THERE = -1

# A row: its line (or index), its customer if it is one, its problems.
Row = tuple[int, dict[str, Any] | None, list[RowProblem]]
# More problems of one customer (its texts' templates, say), given the customer.
CustomerCheck = Callable[[int, dict[str, Any]], list[RowProblem]]


@dataclass
class ImportTally:
    """How an append went: customers added, duplicates, rejected rows and their problems."""

    csv_rows: bool
    # onError=skip: rows with problems are left out, duplicates counted rather than refused.
    skip_rejected: bool = False
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    zone_keys: set[str] = field(default_factory=set)

    def reject(self, problems: list[RowProblem]) -> None:
        self.rejected += 1
        self.problem_count += len(problems)
        room = SHOWN_PROBLEMS - len(self.problems)
        self.problems.extend(problems[: max(room, 0)])

    def messages(self) -> list[str]:
        """The problems as Vapi's error messages: the first ones, then how many in all."""
        shown = [problem.message(csv_rows=self.csv_rows) for problem in self.problems]
        listed = "" if self.problem_count == len(shown) else f", the first {len(shown)} listed"
        rows = "rows" if self.csv_rows else "customers"
        total = f"{self.problem_count} problems in {self.rejected} {rows}{listed}: nothing added"
        return [*shown, total]


def dedupe_key(customer: dict[str, Any]) -> str | None:
    """``service.customer_key`` of a customer as ``CustomerIn`` dumps one."""
    number = customer.get("number")
    if number:
        digits = number if E164_SHAPE.fullmatch(number) else _digits(number)
        extension = customer.get("extension")
        return f"tel:{digits}" + (f";ext={extension}" if extension else "")
    sip = customer.get("sipUri")
    return f"sip:{sip.strip().lower()}" if sip else None


def _digits(number: str) -> str:
    return re.sub(r"[^\d+]", "", number) or number.strip()


@dataclass
class Placement:
    """Where the appended contacts go: after ``first_position``, from this caller number."""

    first_position: int
    phone_number_id: str | None
    # Keys already taken: the campaign's, then the request's, each with the row it came from.
    seen: dict[str, int]
    checks: list[CustomerCheck] = field(default_factory=list)


def new_contacts(
    rows: Iterable[Row],
    *,
    placement: Placement,
    tally: ImportTally,
) -> Iterator[NewContact]:
    """The contacts of the good rows, in order; once a row is bad none is given (the append
    will be refused), but every row is still read so that all problems are named."""
    key: str | None = None
    for row, customer, problems in rows:
        if customer is not None:
            key = dedupe_key(customer)
            problems = problems or _duplicate(placement.seen, key, row, tally=tally)
            for check in placement.checks if not problems else ():
                problems += check(row, customer)
        if problems:
            tally.reject(problems)
            continue
        if customer is None or key is None:
            continue
        if key in placement.seen:
            tally.duplicates += 1
            continue
        placement.seen[key] = row
        zone_key = contact_zone_key(
            number=customer.get("number"), customer_timezone=customer.get("timezone")
        )
        tally.zone_keys.add(zone_key)
        tally.added += 1
        if tally.rejected and not tally.skip_rejected:
            continue
        yield NewContact(
            position=placement.first_position + tally.added,
            phone_number_id=placement.phone_number_id,
            number=customer.get("number"),
            dedupe_key=key,
            customer=customer,
            zone_key=zone_key,
        )


def _duplicate(
    seen: dict[str, int], key: str | None, row: int, *, tally: ImportTally
) -> list[RowProblem]:
    """A duplicate is a problem of its row (as at creation); counted instead when rows with
    problems are skipped (``new_contacts`` sees the key taken and counts it)."""
    if key is None or key not in seen or tally.skip_rejected:
        return []
    first = seen[key]
    column = "number" if key.startswith("tel:") else "sipUri"
    if first == ALREADY_THERE:
        return [RowProblem(row, column, "duplicates a contact already in the campaign")]
    where = f"row {first}" if tally.csv_rows else f"customers.{first}.{column}"
    return [RowProblem(row, column, f"duplicates {where}")]


def json_rows(customers: Iterable[Any]) -> Iterator[Row]:
    """Each customer of a JSON body, checked as creation checks one, by its index."""
    for index, given in enumerate(customers):
        try:
            parsed = CustomerIn.model_validate(given)
        except ValidationError as error:
            yield index, None, problems_of(error, row=index)
            continue
        yield index, parsed.model_dump(by_alias=True, exclude_unset=True), []


def csv_rows(columns: CsvColumns, records: Iterable[tuple[int, list[str]]]) -> Iterator[Row]:
    for line, cells in records:
        customer, problems = customer_of_row(columns, line, cells)
        yield line, customer, problems
