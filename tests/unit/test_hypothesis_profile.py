"""The CI hypothesis profile cannot flake on a busy machine (and is the one CI=true selects)."""

from __future__ import annotations

import os
import subprocess
import sys

from hypothesis import settings


def test_ci_profile_has_no_deadline_and_fixed_examples() -> None:
    ci = settings.get_profile("ci")
    assert ci.deadline is None
    assert ci.derandomize is True
    assert ci.database is None


def test_ci_true_selects_the_ci_profile() -> None:
    probe = (
        "import tests.conftest; from hypothesis import settings; "
        "print(settings.default.deadline, settings.default.derandomize)"
    )
    env = {**os.environ, "CI": "true"}
    env.pop("HYPOTHESIS_PROFILE", None)
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["None", "True"]
