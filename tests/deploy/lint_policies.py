"""parliament (offline IAM linter) over the role policies read back from the deployed stack (deploy venv).

    .venv-deploy/bin/python tests/deploy/lint_policies.py < {"ReconcileRole/reconcile": {policy}, ...}

Prints a JSON list of findings not on ALLOWED (each allowed finding says why it is a false positive).
"""

from __future__ import annotations

import json
import sys

from parliament import analyze_policy_string

# (issue, action): why parliament is wrong about it here. A finding is dropped only when every action it names is
# allowed for its issue.
ALLOWED = {
    ("RESOURCE_MISMATCH", "logs:CreateLogStream"): "moto's GetAtt LogGroup.Arn lacks the ':*' real CloudFormation "
    "returns (arn:...:log-group:NAME:*), which does match the log streams",
    ("RESOURCE_MISMATCH", "logs:PutLogEvents"): "same as logs:CreateLogStream",
    ("RESOURCE_MISMATCH", "ec2:CreateNetworkInterface"): "it needs network-interface, subnet and security-group "
    "resources, granted in three statements each scoped on its own; parliament judges each statement alone",
}


def actions_of(detail: object) -> set[str]:
    if isinstance(detail, list):
        return {str(item.get("action")) for item in detail if isinstance(item, dict)}
    return set()


def main() -> None:
    policies = json.load(sys.stdin)
    findings = []
    for name, document in sorted(policies.items()):
        for finding in analyze_policy_string(json.dumps(document)).findings:
            actions = actions_of(finding.detail)
            if actions and all((finding.issue, action) in ALLOWED for action in actions):
                continue
            findings.append({"policy": name, "issue": finding.issue, "detail": finding.detail})
    json.dump(findings, sys.stdout, default=str, indent=1)


if __name__ == "__main__":
    main()
