"""Reading Prometheus's HTTP API (`/api/v1/query_range`, `/api/v1/targets`), with a timeout on
every call: the Service health page must say quickly that Prometheus is down, never hang."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

# Prometheus answers a query_range with at most 11,000 points per series; the page asks for
# about 120 per chart.
MAX_POINTS = 11_000


class PrometheusUnavailable(Exception):
    """Prometheus did not answer, or not with a result; the message says which, for the
    operator."""


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]  # (Unix time, value); NaN where undefined


@dataclass(frozen=True)
class Target:
    job: str
    instance: str
    health: str  # "up", "down" or "unknown"
    last_error: str
    last_scrape: str


def _get(base_url: str, path: str, params: dict[str, str], timeout: float) -> Any:
    url = f"{base_url}/api/v1/{path}"
    if params:
        url += "?" + urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (configured)
            body = json.load(answer)
    except urllib.error.HTTPError as error:
        try:
            detail = json.load(error).get("error", "")
        except ValueError:
            detail = ""
        raise PrometheusUnavailable(
            f"Prometheus at {base_url} answered {error.code}" + (f": {detail}" if detail else "")
        ) from None
    except TimeoutError:
        raise PrometheusUnavailable(
            f"Prometheus at {base_url} did not answer within {timeout:g} s"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise PrometheusUnavailable(
                f"Prometheus at {base_url} did not answer within {timeout:g} s"
            ) from None
        raise PrometheusUnavailable(
            f"Prometheus at {base_url} cannot be reached: {reason}"
        ) from None
    if body.get("status") != "success":
        raise PrometheusUnavailable(f"Prometheus refused the query: {body.get('error', body)}")
    return body["data"]


def query_range(
    *, base_url: str, query: str, start: float, end: float, step: float, timeout: float
) -> list[Series]:
    params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    data = _get(base_url, "query_range", params, timeout)
    series = []
    for result in data.get("result", []):
        points = tuple((float(t), _number(v)) for t, v in result.get("values", []))
        series.append(Series(labels=dict(result.get("metric", {})), points=points))
    return series


def targets(*, base_url: str, timeout: float) -> list[Target]:
    data = _get(base_url, "targets", {"state": "active"}, timeout)
    found = [
        Target(
            job=str(target.get("labels", {}).get("job", "")),
            instance=str(target.get("labels", {}).get("instance", "")),
            health=str(target.get("health", "unknown")),
            last_error=str(target.get("lastError", "")),
            last_scrape=str(target.get("lastScrape", "")),
        )
        for target in data.get("activeTargets", [])
    ]
    return sorted(found, key=lambda target: (target.job, target.instance))


def _number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        return math.nan
    return number if math.isfinite(number) else math.nan
