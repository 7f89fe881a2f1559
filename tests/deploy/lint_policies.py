"""parliament (offline IAM linter) over the role policies read back from the deployed stack (deploy venv).

    .venv-deploy/bin/python tests/deploy/lint_policies.py < {"ReconcileRole/reconcile": {policy}, ...}

Prints a JSON list of findings not on ALLOWED (each allowed finding says why it is a false positive).
"""

from __future__ import annotations

import json
import sys

from parliament import analyze_policy_string

# (issue, text that identifies the statement): why parliament is wrong here.
ALLOWED = {
    ("RESOURCE_MISMATCH", "document/AWS-RunPowerShellScript"): "AWS-owned SSM documents have no account in their ARN",
}


def main() -> None:
    policies = json.load(sys.stdin)
    findings = []
    for name, document in sorted(policies.items()):
        text = json.dumps(document)
        for finding in analyze_policy_string(text).findings:
            location = json.dumps(finding.location, default=str)
            detail = json.dumps(finding.detail, default=str)
            if any(issue == finding.issue and needle in location + detail + text for (issue, needle) in ALLOWED):
                continue
            findings.append({"policy": name, "issue": finding.issue, "detail": finding.detail,
                             "location": finding.location})
    json.dump(findings, sys.stdout, default=str, indent=1)


if __name__ == "__main__":
    main()
