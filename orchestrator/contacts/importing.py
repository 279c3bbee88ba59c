"""Customers appended to a campaign, one at a time: checked, placed in dial order, and their
problems counted.

A duplicate is what creation calls one (``service.customer_key``): the same phone (number
and extension) or SIP URI, whether earlier in the request or already in the campaign. The
database finds them (``import_repository``) once the rows are staged, so nothing here holds
more than one row; ``duplicate_problems`` names them as creation does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from orchestrator.campaigns.schemas import CustomerIn
from orchestrator.contacts.csv_rows import CsvColumns, RowProblem, customer_of_row, problems_of
from orchestrator.contacts.import_repository import Duplicate
from orchestrator.contacts.service import NewContact
from orchestrator.scheduling.calling_hours.zone_key import contact_zone_key
from orchestrator.wire import E164_SHAPE

# Problems an answer lists one by one; the rest are counted.
SHOWN_PROBLEMS = 1_000

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
    # Rows given to the database, which adds those whose key is free.
    staged: int = 0
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

    def reject_duplicates(self, problems: list[RowProblem], *, count: int) -> None:
        """``count`` staged rows are duplicates, ``problems`` naming the first of them; rows
        are either staged or rejected before, so the problems shown stay in row order."""
        self.rejected += count
        self.problem_count += count
        merged = sorted([*self.problems, *problems], key=lambda problem: problem.row)
        self.problems = merged[:SHOWN_PROBLEMS]

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


@dataclass(frozen=True)
class Placement:
    """Where the appended contacts go: after ``first_position``, from this caller number."""

    first_position: int
    phone_number_id: str | None
    checks: list[CustomerCheck] = field(default_factory=list)


def new_contacts(
    rows: Iterable[Row],
    *,
    placement: Placement,
    tally: ImportTally,
) -> Iterator[tuple[int, NewContact]]:
    """The contacts of the good rows with their rows, in order. Every row is read so that all
    problems are named; once one is bad the append will be refused, but the good rows are
    still given, for their duplicates to be named too."""
    for row, customer, problems in rows:
        key = None if customer is None else dedupe_key(customer)
        if customer is not None and not problems:
            for check in placement.checks:
                problems += check(row, customer)
        if problems:
            tally.reject(problems)
            continue
        if customer is None or key is None:
            continue
        zone_key = contact_zone_key(
            number=customer.get("number"), customer_timezone=customer.get("timezone")
        )
        tally.staged += 1
        # A duplicate leaves its position unused: positions only order the contacts.
        yield (
            row,
            NewContact(
                position=placement.first_position + tally.staged,
                phone_number_id=placement.phone_number_id,
                number=customer.get("number"),
                dedupe_key=key,
                customer=customer,
                zone_key=zone_key,
            ),
        )


def duplicate_problems(duplicates: Iterable[Duplicate], *, csv_rows: bool) -> list[RowProblem]:
    """Each duplicate as a problem of its row, worded as creation words it."""
    problems = []
    for duplicate in duplicates:
        column = "number" if duplicate.dedupe_key.startswith("tel:") else "sipUri"
        if duplicate.first_row is None:
            reason = "duplicates a contact already in the campaign"
        elif csv_rows:
            reason = f"duplicates row {duplicate.first_row}"
        else:
            reason = f"duplicates customers.{duplicate.first_row}.{column}"
        problems.append(RowProblem(duplicate.row, column, reason))
    return problems


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
