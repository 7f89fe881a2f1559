"""Static checks of infra/scripts/Export-WsdrUsers.ps1.

There is no PowerShell on the machines that build and test wsdr, so the script is never executed here. These tests
pin the rules it must keep (and that the original sample's export broke, domain-facts 1.4 / 1.7), and check that the
fixture named in its header has the byte format the script writes.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest

INFRA = Path(__file__).resolve().parent.parent
SCRIPT_PATH = INFRA / "scripts" / "Export-WsdrUsers.ps1"
SCRIPT = SCRIPT_PATH.read_text(encoding="utf-8")
FIXTURE_NAME = "tests/fixtures/users/improved-utf8-bom-crlf.csv"
FIXTURE = INFRA.parent / FIXTURE_NAME
HEADER = '"SamAccountName","Enabled","UserPrincipalName"'


def code_lines():
    """The script without its comment-based help and line comments."""
    without_block = re.sub(r"<#.*?#>", "", SCRIPT, flags=re.DOTALL)
    return [line for line in without_block.splitlines() if not line.lstrip().startswith("#")]


CODE = "\n".join(code_lines())


def test_header_says_there_is_no_powershell_here_and_names_the_fixture():
    header = SCRIPT.split("#>", 1)[0]
    assert "no PowerShell" in header
    assert FIXTURE_NAME in header


@pytest.mark.parametrize(
    "rule, pattern",
    [
        ("strict mode", r"^Set-StrictMode -Version Latest$"),
        ("stop on errors", r"^\$ErrorActionPreference = 'Stop'$"),
        ("only enabled users", r"Filter\s*=\s*'Enabled -eq \$true'"),
        ("search base parameter", r"\[string\] \$SearchBase"),
        ("search scope defaults to Subtree", r"\[ValidateSet\('Subtree', 'OneLevel', 'Base'\)\]\s*\[string\] \$SearchScope = 'Subtree'"),
        ("bucket parameter", r"\[string\] \$Bucket"),
        ("key parameter under users/", r"\$Key = 'users/workspaces-users\.csv'"),
        ("region parameter", r"\[string\] \$Region"),
        ("explicit region on upload", r"Write-S3Object [^\n]*-Region \$Region"),
        ("idempotent folder", r"New-Item -ItemType Directory -Path \$OutputDirectory -Force"),
        ("atomic replace", r"Move-Item -LiteralPath \$tempPath -Destination \$finalPath -Force"),
        ("UTF-8 with BOM", r"UTF8Encoding' -ArgumentList \$true"),
        ("CRLF line ends", r'-join "`r`n"\) \+ "`r`n"'),
        ("quoted header", re.escape("$lines.Add('" + HEADER + "')")),
        ("quote escaping", re.escape("""$Value.Replace('"', '""')""")),
        ("refuses an empty list", r"if \(\$users\.Count -eq 0 -and -not \$AllowEmpty\)"),
        ("AD failure exits before writing", r"catch \{\s*Write-Error[^\n]*AD query[^\n]*\n\s*exit 2"),
    ],
)
def test_script_rule(rule, pattern):
    assert re.search(pattern, CODE, flags=re.MULTILINE), rule


def test_no_original_sample_mistakes():
    assert "-Filter *" not in CODE, "exports disabled users (B7)"
    assert "Set-Content" not in CODE, "re-encodes to the ANSI code page (B4)"
    assert "Select-Object -Skip" not in CODE and "select -Skip" not in CODE
    assert "Export-Csv" not in CODE, "encoding differs between Windows PowerShell 5.1 and PowerShell 7"


def test_query_happens_before_any_write():
    assert CODE.index("Get-ADUser") < CODE.index("WriteAllText") < CODE.index("Write-S3Object")
    assert CODE.index("exit 3") < CODE.index("WriteAllText")


def test_fixture_has_the_scripts_byte_format():
    if not FIXTURE.exists():
        pytest.skip(f"{FIXTURE_NAME} is created by the users-parsing work")
    data = FIXTURE.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    text = data[len(codecs.BOM_UTF8):].decode("utf-8")
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert lines[0] == HEADER
    assert "\n" not in "".join(lines)
    for line in lines[1:]:
        assert re.fullmatch(r'"(?:[^"]|"")*","(?:True|False)","(?:[^"]|"")*"', line), line


def test_script_is_ascii():
    """Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page: keep it ASCII so every host agrees."""
    SCRIPT_PATH.read_bytes().decode("ascii")
