"""CI's rule from tests/conftest.py, run in a fresh pytest: in CI a skip is a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SKIP_IN_CI

pytest_plugins = ["pytester"]

PROJECT = Path(__file__).resolve().parents[1]

# Every way a test can be skipped, in the phase each one happens in.
SKIPPING = """
import pytest

@pytest.fixture
def missing_tool():
    pytest.skip("the tool is not installed")

def test_skip_call():
    pytest.skip("skipped while running")

@pytest.mark.skip(reason="skipped by a marker")
def test_skip_marker():
    pass

@pytest.mark.skipif(True, reason="skipped by a condition")
def test_skipif_marker():
    pass

def test_skip_in_a_fixture(missing_tool):
    pass

def test_importorskip_call():
    pytest.importorskip("no_such_module_for_this_test")

@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_failure():
    assert False

def test_passes():
    pass
"""

SKIPPED_MODULE = """
import pytest

pytest.importorskip("no_such_module_either")

def test_never_collected():
    pass
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """A pytest in its own process whose only conftest is the project's two hooks."""
    pytester.makeconftest(
        "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n"
    )
    pytester.makepyfile(test_skipping=SKIPPING, test_skipped_module=SKIPPED_MODULE)
    monkeypatch.setenv("PYTHONPATH", str(PROJECT))
    # Whatever tests/conftest.py imports must import here too.
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "gravatar.settings")

    def run(*args: str, ci: bool) -> pytest.RunResult:
        if ci:
            monkeypatch.setenv("CI", "true")
        else:
            monkeypatch.delenv("CI", raising=False)
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)

    return run


@pytest.mark.parametrize("summary", ["-ra", "-rN"], ids=["summary", "no-summary"])
def test_in_ci_every_kind_of_skip_fails_the_run(run, summary):
    result = run(summary, "test_skipping.py", ci=True)
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # A skip while running fails the test; one before it (a marker, a fixture) is an error.
    result.assert_outcomes(passed=1, failed=2, errors=3, xfailed=1)
    for reason in (
        "skipped while running",
        "skipped by a marker",
        "skipped by a condition",
        "the tool is not installed",
        "could not import 'no_such_module_for_this_test'",
    ):
        assert f"{SKIP_IN_CI}: Skipped: {reason}" in output, reason


def test_the_summary_names_each_skipped_test(run):
    result = run("-ra", "test_skipping.py", ci=True)
    result.stdout.fnmatch_lines(
        [
            "*short test summary info*",
            "XFAIL test_skipping.py::test_expected_failure - known bug",
            "ERROR test_skipping.py::test_skip_marker",
            "ERROR test_skipping.py::test_skipif_marker",
            "ERROR test_skipping.py::test_skip_in_a_fixture",
            "FAILED test_skipping.py::test_skip_call",
            "FAILED test_skipping.py::test_importorskip_call",
            "*2 failed, 1 passed, 1 xfailed, 3 errors*",
        ]
    )


def test_in_ci_a_module_skipped_while_collected_stops_the_run(run):
    result = run("-ra", "test_skipped_module.py", ci=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"{SKIP_IN_CI}: Skipped: could not import 'no_such_module_either'*"]
    )


def test_outside_ci_a_skip_stays_a_skip(run):
    result = run("-ra", ci=False)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=6, xfailed=1)
    assert SKIP_IN_CI not in result.stdout.str()
