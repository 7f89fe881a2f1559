"""The SAM transform, offline, as `sam deploy` would run it (deploy venv: the pinned aws-sam-translator).

    .venv-deploy/bin/python tests/deploy/transform.py < {"template": PATH, "region": R, "parameters": {...}}  > CloudFormation JSON

Each function's `CodeUri: ..` becomes `s3://wsdr-artifacts/<Binary>.zip`, as `sam package` would upload it (the
translator refuses local paths). No IAM lookup is needed: every function names its own `Role`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from samtranslator.translator.transform import transform

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra" / "tests"))
import cfnchecks as cc  # noqa: E402


def main() -> None:
    request = json.load(sys.stdin)
    # The translator resolves AWS::Region for its ARNs from boto's session: the stack's region.
    os.environ["AWS_DEFAULT_REGION"] = request["region"]
    template = cc.load_template(request["template"])
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            binary = resource["Metadata"]["BuildProperties"]["Binary"]
            resource["Properties"]["CodeUri"] = f"s3://wsdr-artifacts/{binary}.zip"
    transformed = transform(template, request["parameters"], _NoManagedPolicies())
    json.dump(transformed, sys.stdout, indent=1, sort_keys=True)


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


if __name__ == "__main__":
    main()
