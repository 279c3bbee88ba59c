"""Reading customers from CSV blocks: lines split anywhere, header rules, rows to customers."""

from __future__ import annotations

import tracemalloc

import pytest

from orchestrator.contacts.csv_rows import CsvColumns, RowProblem, csv_records, customer_of_row
from orchestrator.exceptions import ValidationFailed

BODY = 'number,name,ville\r\n+14155550123,Zoë,"Paris,\nFrance"\r\n\r\n+14155550124,Åsa,Oslo'


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1024])
def test_blocks_split_anywhere_even_inside_a_character_read_the_same(size: int) -> None:
    data = ("\ufeff" + BODY).encode()
    columns, records = csv_records(data[i : i + size] for i in range(0, len(data), size))
    assert columns.names == ["number", "name", "ville"]
    assert list(records) == [
        (2, ["+14155550123", "Zoë", "Paris,\nFrance"]),
        (5, ["+14155550124", "Åsa", "Oslo"]),
    ]


def test_a_row_becomes_a_customer_with_its_other_columns_as_variables() -> None:
    columns = CsvColumns.of_header(["number", "name", "appointment date", "email"])
    customer, problems = customer_of_row(columns, 2, ["+14155550123", "", "Friday", ""])
    assert problems == []
    assert customer == {
        "number": "+14155550123",
        "assistantOverrides": {"variableValues": {"appointment date": "Friday"}},
    }


def test_a_bad_row_names_each_column_at_fault() -> None:
    columns = CsvColumns.of_header(["number", "timezone", "note"])
    customer, problems = customer_of_row(columns, 9, ["+1415", "Mars/Olympus", "a\x00b"])
    assert customer is None
    assert problems == [
        RowProblem(9, "note", "must not contain NUL characters"),
        RowProblem(9, "number", "must be a valid E.164 phone number"),
        RowProblem(9, "timezone", "must be a valid IANA time zone name (e.g. America/New_York)"),
    ]


def test_a_row_without_number_or_sip_uri_reaches_no_one() -> None:
    columns = CsvColumns.of_header(["number", "sipUri"])
    assert customer_of_row(columns, 3, ["", "sip:desk@example.com"])[0] == {
        "sipUri": "sip:desk@example.com"
    }
    _, problems = customer_of_row(columns, 4, ["", ""])
    assert [problem.message(csv_rows=True) for problem in problems] == [
        "row 4: must have a number or a sipUri"
    ]


def test_every_header_problem_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as refused:
        CsvColumns.of_header(["Name", "name", "name", " "])
    assert refused.value.messages == [
        "CSV header: column 'Name' must be written 'name'",
        "CSV header: column 'name' appears twice",
        "CSV header: column 4 has no name",
    ]


def test_rows_with_ever_new_time_zones_leave_nothing_behind() -> None:
    columns = CsvColumns.of_header(["number", "timezone"])
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for line in range(2, 20_002):
            cells = ["+14155550123", f"Mars/Crater-{line}"]
            customer, problems = customer_of_row(columns, line, cells)
            assert customer is None and problems[0].column == "timezone"
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 256 << 10, after - before
