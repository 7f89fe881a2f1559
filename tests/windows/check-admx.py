#!/usr/bin/env python3
"""Checks desktop/windows/policy/wsdr.admx + en-US/wsdr.adml against the policy contract.

The contract (HKLM\\SOFTWARE\\Policies\\wsdr): StatusUrl REG_SZ (a <text> element), PollIntervalSecs REG_DWORD
(<decimal>, 5..86400), subkey PublicKeys whose value names are key ids (<list explicitValue="true">).
Checked: both files parse; the policies set exactly those names, for the machine; every $(string.X) and
$(presentation.X) the ADMX uses exists in the ADML, every presentation control refers to an element of its
policy; the tray's policy reader (desktop/wsdr-desktop-core/src/policy.rs) uses the same names; with --msi,
the MSI's Registry table writes only those names under the policy key.

Usage: tests/windows/check-admx.py [--msi PACKAGE.msi]
"""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
POLICY_KEY = r"SOFTWARE\Policies\wsdr"
KEYS_KEY = POLICY_KEY + r"\PublicKeys"
# (key, value name or None for a list, element tag) -> extra attributes the element must carry.
CONTRACT = {
    (POLICY_KEY, "StatusUrl", "text"): {},
    (POLICY_KEY, "PollIntervalSecs", "decimal"): {"minValue": "5", "maxValue": "86400"},
    (KEYS_KEY, None, "list"): {"explicitValue": "true"},
}

failures = []


def check(ok, message):
    print(("ok   " if ok else "FAIL ") + message)
    if not ok:
        failures.append(message)


def local(tag):
    return tag.split("}", 1)[1]


def main():
    admx_path = ROOT / "desktop/windows/policy/wsdr.admx"
    adml_path = ROOT / "desktop/windows/policy/en-US/wsdr.adml"
    admx = ET.parse(admx_path).getroot()
    adml = ET.parse(adml_path).getroot()
    check(True, f"{admx_path.relative_to(ROOT)} and {adml_path.relative_to(ROOT)} parse")

    strings = {s.get("id") for s in adml.iterfind(".//p:stringTable/p:string", NS)}
    presentations = {p.get("id"): p for p in adml.iterfind(".//p:presentationTable/p:presentation", NS)}

    for ref in re.findall(r"\$\(string\.([^)]+)\)", admx_path.read_text(encoding="utf-8")):
        check(ref in strings, f"string {ref} is defined in the ADML")

    found = {}
    for policy in admx.iterfind(".//p:policies/p:policy", NS):
        name = policy.get("name")
        check(policy.get("class") == "Machine", f"policy {name} is a computer (HKLM) policy")
        ids = set()
        for element in policy.iterfind("p:elements/*", NS):
            tag = local(element.tag)
            key = element.get("key", policy.get("key"))
            value_name = element.get("valueName")
            found[(key, value_name, tag)] = element
            ids.add(element.get("id"))
        presentation_ref = re.fullmatch(r"\$\(presentation\.([^)]+)\)", policy.get("presentation", ""))
        check(presentation_ref is not None and presentation_ref.group(1) in presentations,
              f"policy {name}'s presentation is defined in the ADML")
        if presentation_ref and presentation_ref.group(1) in presentations:
            for control in presentations[presentation_ref.group(1)]:
                ref_id = control.get("refId")
                if ref_id is not None:
                    check(ref_id in ids, f"policy {name}'s control {local(control.tag)} refers to its element {ref_id}")

    check(set(found) == set(CONTRACT),
          f"the ADMX sets exactly the contract's values: {sorted(map(str, found))}")
    for contract_key, attributes in CONTRACT.items():
        element = found.get(contract_key)
        for attribute, expected in attributes.items():
            check(element is not None and element.get(attribute) == expected,
                  f"{contract_key[1] or contract_key[0]}: {attribute}={expected}")

    # The tray's reader (win branch): its constants must name the same key and values.
    reader = ROOT / "desktop/wsdr-desktop-core/src/policy.rs"
    if reader.exists():
        source = reader.read_text(encoding="utf-8")
        constants = dict(re.findall(r'pub const (\w+): &str = r?"([^"]*)";', source))
        check(constants.get("POLICY_KEY") == POLICY_KEY, f"policy.rs POLICY_KEY = {constants.get('POLICY_KEY')}")
        check(constants.get("PUBLIC_KEYS_SUBKEY") == "PublicKeys", "policy.rs PUBLIC_KEYS_SUBKEY = PublicKeys")
        check(constants.get("STATUS_URL_VALUE") == "StatusUrl", "policy.rs STATUS_URL_VALUE = StatusUrl")
        check(constants.get("POLL_INTERVAL_VALUE") == "PollIntervalSecs",
              "policy.rs POLL_INTERVAL_VALUE = PollIntervalSecs")
    else:
        print(f"note {reader.relative_to(ROOT)} is absent in this tree: the reader's names were not compared")

    if len(sys.argv) == 3 and sys.argv[1] == "--msi":
        rows = subprocess.run(["msiinfo", "export", sys.argv[2], "Registry"], check=True, capture_output=True,
                              text=True).stdout.splitlines()[3:]
        written = set()
        for row in rows:
            _, root, key, name, *_ = row.split("\t") + [""]
            if key.startswith(POLICY_KEY):
                written.add((root, key, name))
        expected = {("2", POLICY_KEY, "StatusUrl"), ("2", POLICY_KEY, "PollIntervalSecs"),
                    ("2", KEYS_KEY, "[PUBLICKEYID]"), ("2", KEYS_KEY, "-")}
        check(written == expected, f"the MSI writes only the contract's policy values: {sorted(written)}")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
