"""Reading a Prometheus exposition in tests: one sample's value by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """The sample's value; 0 for a labelled sample not yet seen (Prometheus's own reading of
    a counter that has not started)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def names(text: str) -> set[str]:
    return {name for name, _ in samples(text)}
