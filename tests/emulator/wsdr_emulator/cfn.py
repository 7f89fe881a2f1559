"""moto's CloudFormation, made faithful where wsdr's stack depends on it (installed once, at import of app.py).

- ``AWS::KMS::Key``: moto 5.2.5 creates every CloudFormation key as ``SYMMETRIC_DEFAULT``/``ENCRYPT_DECRYPT``
  (hard-coded in ``Key.create_from_cloudformation_json``) and keeps ``KeyPolicy`` as a dict, so ``DescribeKey``
  answers 500 ("the JSON object must be str ... not dict"). CloudFormation documents ``KeySpec`` and ``KeyUsage``
  (defaults ``SYMMETRIC_DEFAULT``/``ENCRYPT_DECRYPT``) and a JSON ``KeyPolicy``: the status key of wsdr's stack is
  ``ECC_NIST_P256``/``SIGN_VERIFY`` and must sign.
"""

from __future__ import annotations

import json
from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.kms import models as kms

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        properties = cloudformation_json["Properties"]
        policy = properties.get("KeyPolicy")
        key = kms.kms_backends[account_id][region_name].create_key(
            policy=policy if isinstance(policy, str) or policy is None else json.dumps(policy),
            key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
            key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
            description=properties.get("Description"),
            tags=properties.get("Tags", []),
        )
        key.key_rotation_status = properties.get("EnableKeyRotation", False)
        key.enabled = properties.get("Enabled", True)
        return key

    kms.Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign]
    _installed = True
