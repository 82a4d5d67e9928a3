"""The secret scan run by `./facto test`: tracked files against the committed baseline.

`detect-secrets-hook` would do the same comparison but also rewrites the baseline whenever a
known finding moves to another line (and then fails), which breaks on every merge that shifts a
test file. This compares findings by file, type and secret hash only, never by line.

Update the baseline after reviewing a new false positive:
    .venv/bin/detect-secrets scan --baseline .secrets.baseline
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

from detect_secrets.core import baseline
from detect_secrets.core.secrets_collection import SecretsCollection

BASELINE = ".secrets.baseline"


def tracked_files(root: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    names = (name for name in listing.split("\0") if name and name != BASELINE)
    return [name for name in names if (root / name).is_file()]


def unexpected_findings(root: Path) -> list[str]:
    # Findings are keyed by the path as given: scan from the root with relative paths, as the
    # baseline was written.
    with contextlib.chdir(root):
        known = baseline.load(baseline.load_from_file(BASELINE), BASELINE)
        found = SecretsCollection()
        found.scan_files(*tracked_files(root))
    return [
        f"{filename}:{secret.line_number}: {secret.type}" for filename, secret in (found - known)
    ]


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    findings = unexpected_findings(root)
    for finding in findings:
        print(f"possible secret: {finding}", file=sys.stderr)  # noqa: T201 - CLI output
    if findings:
        print(  # noqa: T201
            f"{len(findings)} unexpected finding(s); if false positives, review and run "
            f"`detect-secrets scan --baseline {BASELINE}`",
            file=sys.stderr,
        )
        return 1
    print("secret scan: 0 unexpected findings")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
