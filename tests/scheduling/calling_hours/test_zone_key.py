"""A contact's zone key: its own zone, else its number's, always phonenumbers' answer; then
the number's US state, from its area code."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers.timezone import time_zones_for_number

from orchestrator.scheduling.calling_hours.us_states import (
    STATE_CODES,
    state_of_area_code,
    state_zones,
)
from orchestrator.scheduling.calling_hours.zone_key import (
    contact_zone_key,
    key_places,
    key_states,
    key_zones,
)

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
SYDNEY = "Australia/Sydney"
KOLKATA = "Asia/Kolkata"
# Idaho: the region of +1 208 222 spans Mountain and Pacific time.
IDAHO_NUMBER = "+12082222222"
IDAHO_KEY = "America/Boise,America/Los_Angeles|ID"


def _reference_key(number: str) -> str:
    """phonenumbers' own answer, uncached, and the state of the parsed number's area code."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ""
    zones = time_zones_for_number(parsed)
    key = ",".join(sorted(zone for zone in zones if zone != "Etc/Unknown"))
    state = (
        None
        if parsed.italian_leading_zero
        else state_of_area_code(parsed.country_code or 0, str(parsed.national_number))
    )
    if state is None and _us_without_place(parsed):
        return "|*"
    return key if state is None else f"{key}|{state}"


def _us_without_place(parsed: phonenumbers.PhoneNumber) -> bool:
    kind = phonenumbers.number_type(parsed)
    return phonenumbers.region_code_for_number(parsed) == "US" and kind in {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.PAGER,
        phonenumbers.PhoneNumberType.VOICEMAIL,
    }


def test_customer_timezone_wins_over_the_number_and_the_number_gives_the_state() -> None:
    key = contact_zone_key(number="+12125550123", customer_timezone=KOLKATA)
    assert key == f"{KOLKATA}|NY"
    assert contact_zone_key(number="+442079460958", customer_timezone=KOLKATA) == KOLKATA
    assert contact_zone_key(number=None, customer_timezone=KOLKATA) == KOLKATA
    assert contact_zone_key(number="+1 (305) 555-0123", customer_timezone=NEW_YORK) == (
        f"{NEW_YORK}|FL"
    )


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("+12125550123", f"{NEW_YORK}|NY"),
        ("+13055550123", f"{NEW_YORK}|FL"),
        ("+13125550123", "America/Chicago|IL"),
        ("+12135550123", "America/Los_Angeles|CA"),
        ("+18085550123", "Pacific/Honolulu|HI"),
        ("+16025550123", "America/Phoenix|AZ"),
        ("+12065550123", "America/Los_Angeles|WA"),
        ("+12025550123", f"{NEW_YORK}|DC"),
        ("+14165550123", "America/Toronto"),  # Canada: no US state
        ("+17875550123", "America/Puerto_Rico"),  # a territory, not a state
        ("+442079460958", LONDON),
        ("+61291234567", SYDNEY),
        ("+1 (212) 555-0123", f"{NEW_YORK}|NY"),
    ],
)
def test_zone_and_state_of_the_number(number: str, key: str) -> None:
    assert contact_zone_key(number=number, customer_timezone=None) == key


@pytest.mark.parametrize("number", ["+18005550123", "+18885550123", "+15005550123", "+19005550123"])
def test_a_non_geographic_us_number_is_somewhere_in_the_states(number: str) -> None:
    # phonenumbers gives these every NANP zone, Guam to Newfoundland: none is kept.
    key = contact_zone_key(number=number, customer_timezone=None)
    assert key == "|*"
    assert key_zones(key) == ()
    assert key_states(key) == tuple(sorted(STATE_CODES))
    places = key_places(key)
    assert {NEW_YORK, "Pacific/Honolulu", "America/Anchorage"} <= set(places)
    assert not {"Pacific/Guam", "America/St_Johns", "America/Toronto"} & set(places)
    # Its customer's own zone says where it is; the state stays unknown.
    assert contact_zone_key(number=number, customer_timezone=NEW_YORK) == NEW_YORK


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("+13051110123", "|FL"),  # no exchange starts with 1: phonenumbers places it nowhere
        ("+1305555", "|FL"),  # too short
        ("+12125550", "|NY"),
        ("+1212555012345678", "|NY"),  # too long for E.164: a full parse
        ("+1 (305) 111-0123", "|FL"),  # through a full parse
    ],
)
def test_a_number_without_a_zone_keeps_its_state(number: str, key: str) -> None:
    assert contact_zone_key(number=number, customer_timezone=None) == key
    assert key_zones(key) == ()
    places = key_places(key)
    assert places == tuple(sorted(state_zones()[key[1:]]))
    assert NEW_YORK in places


def test_no_area_code_starts_with_zero() -> None:
    assert contact_zone_key(number="+10305550123", customer_timezone=None) == ""


@pytest.mark.parametrize(
    ("key", "zones", "states"),
    [
        ("", (), None),
        (LONDON, (LONDON,), None),
        (f"{IDAHO_KEY}", ("America/Boise", "America/Los_Angeles"), ("ID",)),
        ("|FL", (), ("FL",)),
        (f"{NEW_YORK}|", (NEW_YORK,), None),
        ("|*", (), tuple(sorted(STATE_CODES))),
    ],
)
def test_a_key_reads_back_as_zones_and_states(
    key: str, zones: tuple[str, ...], states: tuple[str, ...] | None
) -> None:
    assert key_zones(key) == zones
    assert key_states(key) == states


US_ZONES = (
    "America/Adak",
    "America/Anchorage",
    "America/Boise",
    "America/Chicago",
    "America/Denver",
    "America/Juneau",
    "America/Los_Angeles",
    NEW_YORK,
    "America/North_Dakota/Center",
    "America/Phoenix",
    "Pacific/Honolulu",
)


@pytest.mark.parametrize(
    ("key", "places"),
    [
        ("", ()),
        (LONDON, (LONDON,)),
        (IDAHO_KEY, ("America/Boise", "America/Los_Angeles")),
        ("|FL", ("America/Chicago", NEW_YORK)),
        (f"{LONDON}|FL", (LONDON,)),
        ("|*", US_ZONES),
    ],
)
def test_a_key_s_places_are_its_zones_else_its_states_zones(
    key: str, places: tuple[str, ...]
) -> None:
    assert key_places(key) == places


def test_number_spanning_several_zones_lists_them_all_sorted() -> None:
    assert contact_zone_key(number=IDAHO_NUMBER, customer_timezone=None) == IDAHO_KEY
    russian = contact_zone_key(number="+79123456789", customer_timezone="")
    zones = list(key_zones(russian))
    assert len(zones) > 5
    assert zones == sorted(zones)
    assert "Europe/Moscow" in zones


@pytest.mark.parametrize(
    "number",
    [None, "", "hello", "+19995550123", "+999123456789"],
)
def test_unknown_zone_is_empty(number: str | None) -> None:
    assert contact_zone_key(number=number, customer_timezone=None) == ""


SPREAD = [
    "+12125550123",  # New York
    "+13055550123",  # Miami
    "+13125550123",  # Chicago
    "+17205550123",  # Denver
    "+16025550123",  # Phoenix: no DST
    "+12135550123",  # Los Angeles
    "+19075550123",  # Anchorage
    "+18085550123",  # Honolulu
    "+14165550123",  # Toronto
    IDAHO_NUMBER,
    "+442079460958",  # London
    "+447911123456",  # UK mobile
    "+61291234567",  # Sydney
    "+61893456789",  # Perth
    "+61412345678",  # Australian mobile
    "+74951234567",  # Moscow
    "+79123456789",  # Russian mobile: many zones
    "+73512345678",  # Chelyabinsk
    "+5511912345678",  # Sao Paulo
    "+559232345678",  # Manaus
    "+5561912345678",  # Brasilia
    "+911123456789",  # Delhi
    "+8613812345678",  # China
    "+390612345678",  # Rome: national number with a leading zero
    "+5491123456789",  # Argentina mobile
    "+573001234567",  # Colombia
    "+995322123456",  # Georgia
    "+576010555012",  # Bogota
    "+4402079460958",  # London, written with the trunk 0 kept
    "+310201234567",  # Amsterdam, likewise
    "+19995550123",  # invalid area code
    "+1212555012",  # too short
]


def test_zone_keys_equal_phonenumbers_uncached() -> None:
    for number in SPREAD:
        expected = _reference_key(number)
        assert contact_zone_key(number=number, customer_timezone=None) == expected, number
        # The second call may come from the prefix cache: same answer.
        assert contact_zone_key(number=number, customer_timezone=None) == expected, number


def test_trunk_zero_after_the_country_code_is_dropped_as_phonenumbers_does() -> None:
    assert contact_zone_key(number="+4402079460958", customer_timezone=None) == LONDON
    assert contact_zone_key(number="+310201234567", customer_timezone=None) == "Europe/Amsterdam"


@pytest.mark.parametrize(
    "numbers",
    [("+576010555012", "+576010555112"), ("+576010555112", "+576010555012")],
)
def test_numbers_sharing_nine_digits_can_still_differ(numbers: tuple[str, str]) -> None:
    # Colombia validates a 10th digit: one is a Bogota line, the other no number at all.
    expected = {"+576010555012": "America/Bogota", "+576010555112": ""}
    for number in numbers:
        assert contact_zone_key(number=number, customer_timezone=None) == expected[number]


def test_example_numbers_of_every_region_equal_phonenumbers() -> None:
    examples = [
        phonenumbers.example_number_for_type(region, kind)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.TOLL_FREE,
            phonenumbers.PhoneNumberType.VOIP,
        )
    ]
    numbers = [
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for example in examples
        if example is not None
    ]
    assert len(numbers) > 500
    mismatches = [
        number
        for number in numbers
        for sibling in (number, number[:-1] + str(9 - int(number[-1])))
        if contact_zone_key(number=sibling, customer_timezone=None) != _reference_key(sibling)
    ]
    assert mismatches == []


COUNTRY_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


@st.composite
def _numbers_sharing_a_prefix(draw: st.DrawFn) -> tuple[str, str]:
    """Two E.164 strings with the same first nine digits and length, else unrelated."""
    country_code = str(draw(st.sampled_from(COUNTRY_CODES)))
    length = draw(st.integers(min_value=max(7, len(country_code) + 1), max_value=15))
    first = country_code + draw(_digits(length - len(country_code)))
    return "+" + first, "+" + first[:9] + draw(_digits(len(first[9:])))


def _digits(count: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=count, max_size=count)


@given(_numbers_sharing_a_prefix())
def test_numbers_sharing_a_prefix_each_get_phonenumbers_answer(pair: tuple[str, str]) -> None:
    for number in pair:
        assert contact_zone_key(number=number, customer_timezone=None) == _reference_key(number)
