"""``GET /metrics`` read as Prometheus reads it: every sample by name and labels."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    # Per sample name (``_total``, ``_bucket`` ... included): (labels, value) of each sample.
    samples: dict[str, list[tuple[dict[str, str], float]]]
    # Per family name (as ``# TYPE`` gives it): its type.
    families: dict[str, str]

    def value(self, name: str, /, **labels: str) -> float | None:
        """The sample with exactly these labels (None: no such series)."""
        for sample_labels, value in self.samples.get(name, []):
            if sample_labels == labels:
                return value
        return None

    def series(self, name: str, /, **labels: str) -> list[tuple[dict[str, str], float]]:
        """The samples of ``name`` whose labels include these."""
        return [
            (sample_labels, value)
            for sample_labels, value in self.samples.get(name, [])
            if labels.items() <= sample_labels.items()
        ]


def scrape(api: httpx.Client) -> Scrape:
    """The API's ``/metrics`` (a ``TestClient`` of the app, or a client of a running API)."""
    response = api.get("/metrics")
    assert response.status_code == 200, response.text
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    families: dict[str, str] = {}
    for family in text_string_to_metric_families(response.text):
        families[family.name] = family.type
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return Scrape(samples, families)
