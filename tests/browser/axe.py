"""axe-core (tests/browser/package.json, installed by `make test`) run in a real page: the WCAG
2.0, 2.1 and 2.2 A and AA rules, colour contrast among them; a serious or critical violation
fails the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

AXE_SCRIPT: Final = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS: Final = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")
FAILING_IMPACTS: Final = frozenset({"serious", "critical"})


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The page's serious and critical violations as axe reports them (rule, help, nodes)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    found: list[dict[str, Any]] = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                      resultTypes: ['violations']})
            .then(result => result.violations)""",
        list(WCAG_TAGS),
    )
    return [violation for violation in found if violation["impact"] in FAILING_IMPACTS]


def violations_text(where: str, violations: list[dict[str, Any]]) -> str:
    """One block per rule: what it asks, then each element (its selector and axe's summary)."""
    lines = []
    for violation in violations:
        lines.append(f"{where}: {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {target}\n      {node['html'][:160]}\n      {summary}")
    return "\n".join(lines)
