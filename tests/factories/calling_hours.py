"""``callingHours`` policies and their windows."""

from __future__ import annotations

from typing import Any

from orchestrator.scheduling.calling_hours.schemas import CONTACT_TIMEZONE, DAYS, CallingHoursIn


def calling_window(start: str, end: str, days: list[str] | None = None) -> dict[str, Any]:
    """One ``callingHours`` window, every day unless ``days`` says otherwise."""
    return {"days": list(DAYS) if days is None else days, "start": start, "end": end}


def calling_hours(
    *windows: dict[str, Any], timezone: str = CONTACT_TIMEZONE, fallback: str = "UTC"
) -> CallingHoursIn:
    """A ``callingHours`` policy of ``windows``, as a campaign would bring it."""
    return CallingHoursIn.model_validate(
        {"windows": list(windows), "timezone": timezone, "fallbackTimezone": fallback}
    )
