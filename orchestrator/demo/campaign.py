"""The demo's campaign: fictional customers split across two caller numbers."""

from __future__ import annotations

from typing import Any

from orchestrator.clock import utcnow

DEMO_ASSISTANT_ID = "demo-assistant"
DEMO_PHONE_NUMBER_IDS = ("demo-caller-1", "demo-caller-2")
# Each demo caller number's pacing, set through ``PUT /phone-number/{id}/pacing``.
DEMO_CALLS_PER_SECOND = 25.0
# Act two: texts to the customers the calls did not reach, at this many a second per number.
DEMO_MESSAGES_PER_SECOND = 20.0
FOLLOW_UP_ENDED_REASONS = ("customer-did-not-answer", "voicemail")
FOLLOW_UP_TEXT = (
    "Hi {{ customer.name }}, sorry we missed you. Reply YES to be called back, STOP to opt out."
)
# 555-0100..0199 is the North American range reserved for fiction: 100 numbers per area code.
AREA_CODES: tuple[str, ...] = ("202", "212", "312", "415", "617", "303", "206", "512", "404")
AREA_CODES += ("305", "213", "602", "702", "503", "615", "919", "718", "646", "773", "214")
MAX_CONTACTS = 100 * len(AREA_CODES)


def demo_customers(count: int) -> list[dict[str, str]]:
    """``count`` distinct, valid E.164 numbers from the fictional 555-01XX ranges."""
    if not 1 <= count <= MAX_CONTACTS:
        raise ValueError(f"the demo has between 1 and {MAX_CONTACTS} contacts, not {count}")
    return [
        {"number": f"+1{AREA_CODES[i // 100]}55501{i % 100:02d}", "name": f"Demo {i + 1}"}
        for i in range(count)
    ]


def campaign_body(customers: list[dict[str, str]], *, max_concurrency: int) -> dict[str, Any]:
    """A Vapi ``CreateCampaignDTO`` that splits the customers across two caller numbers."""
    half = (len(customers) + 1) // 2
    batches = [customers[:half], customers[half:]]
    return {
        "name": f"demo {utcnow():%Y-%m-%d %H:%M:%S}",
        "assistantId": DEMO_ASSISTANT_ID,
        "maxConcurrency": max_concurrency,
        "dialPlan": [
            {"phoneNumberId": number_id, "customers": batch}
            for number_id, batch in zip(DEMO_PHONE_NUMBER_IDS, batches, strict=True)
            if batch
        ],
        # Act two: whoever did not answer, or whose voicemail did, gets one text.
        "followUpPlan": {
            "sms": {
                "whenEndedReason": list(FOLLOW_UP_ENDED_REASONS),
                "input": FOLLOW_UP_TEXT,
                "afterFinalAttempt": True,
            }
        },
    }
