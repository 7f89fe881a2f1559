"""The template's functions name binaries that the Rust workspace really builds.

Each function of infra/template.yaml is built by SAM's `rust-cargolambda` builder as `cargo lambda build --release
--bin <Binary>` in its `CodeUri` (the workspace root). A `Binary:` that is not a bin target of backend/wsdr-lambda
breaks `sam build` and infra/package.sh only after a long release build; this test catches it in CI without building
anything: it reads the workspace's targets with `cargo metadata --no-deps` (offline, about a second).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cfnchecks as cc  # noqa: E402

INFRA = Path(__file__).resolve().parent.parent
REPO = INFRA.parent
TEMPLATE = cc.load_template(INFRA / "template.yaml")
LAMBDA_PACKAGE = "wsdr-lambda"
LAMBDA_MANIFEST = REPO / "backend" / "wsdr-lambda" / "Cargo.toml"


def workspace_bins() -> dict[str, dict]:
    """{package name: {"manifest": path, "bins": {bin names}}} of every workspace member, from cargo metadata."""
    cargo = os.environ.get("CARGO") or shutil.which("cargo")
    if cargo is None:
        pytest.fail("cargo is not on the PATH: it is needed to read the workspace's binary targets")
    result = subprocess.run(
        [cargo, "metadata", "--no-deps", "--format-version", "1", "--offline"]
        + ["--manifest-path", str(REPO / "Cargo.toml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"cargo metadata failed:\n{result.stderr}"
    metadata = json.loads(result.stdout)
    return {
        package["name"]: {
            "manifest": Path(package["manifest_path"]).resolve(),
            "bins": {t["name"] for t in package["targets"] if "bin" in t["kind"]},
        }
        for package in metadata["packages"]
    }


def template_binaries(template: dict) -> dict[str, str | None]:
    """{function logical id: its Metadata.BuildProperties.Binary (None when absent)}."""
    out = {}
    for name in cc.functions(template):
        metadata = cc.resources(template)[name].get("Metadata") or {}
        out[name] = (metadata.get("BuildProperties") or {}).get("Binary")
    return out


def check_lambda_binaries(template: dict, packages: dict[str, dict], package: str = LAMBDA_PACKAGE) -> list[str]:
    """Violations: a function without a Binary, a Binary that is not a bin of `package`, a Binary that another
    workspace member also has (`--bin` at the workspace root would be ambiguous), two functions on one Binary."""
    problems = []
    if package not in packages:
        return [f"workspace has no package {package!r}"]
    seen: dict[str, str] = {}
    for function, binary in sorted(template_binaries(template).items()):
        if not binary:
            problems.append(f"{function}: no Metadata.BuildProperties.Binary")
            continue
        if binary not in packages[package]["bins"]:
            problems.append(
                f"{function}: Binary {binary!r} is not a bin target of {package} "
                f"(it has: {', '.join(sorted(packages[package]['bins'])) or 'none'})"
            )
        others = sorted(p for p, info in packages.items() if p != package and binary in info["bins"])
        if others:
            problems.append(f"{function}: Binary {binary!r} is also a bin of {', '.join(others)}")
        if binary in seen:
            problems.append(f"{function}: Binary {binary!r} already built for {seen[binary]}")
        seen[binary] = function
    return problems


@pytest.fixture(scope="module")
def packages():
    return workspace_bins()


def test_the_template_deploys_functions():
    # Guards the test below against passing vacuously.
    assert set(template_binaries(TEMPLATE)) == {"ReconcileFunction", "HealthFunction", "PublishFunction"}


def test_every_template_binary_is_a_bin_of_wsdr_lambda(packages):
    assert packages[LAMBDA_PACKAGE]["manifest"] == LAMBDA_MANIFEST.resolve()
    assert check_lambda_binaries(TEMPLATE, packages) == []


# The checker itself, on made-up workspaces: each regression it guards against is caught.
FAKE = {
    LAMBDA_PACKAGE: {"manifest": LAMBDA_MANIFEST, "bins": {"reconcile", "health", "publish"}},
    "wsdr-cli": {"manifest": Path("cli"), "bins": {"wsdr"}},
}


def test_checker_passes_a_matching_workspace():
    assert check_lambda_binaries(TEMPLATE, FAKE) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda ws, t: ws[LAMBDA_PACKAGE]["bins"].discard("publish"), "'publish' is not a bin target of wsdr-lambda"),
        (
            lambda ws, t: t["Resources"]["HealthFunction"]["Metadata"]["BuildProperties"].update(Binary="heath"),
            "'heath' is not a bin target",
        ),
        (
            lambda ws, t: t["Resources"]["HealthFunction"]["Metadata"].pop("BuildProperties"),
            "no Metadata.BuildProperties",
        ),
        (lambda ws, t: ws["wsdr-cli"]["bins"].add("health"), "'health' is also a bin of wsdr-cli"),
        (
            lambda ws, t: t["Resources"]["PublishFunction"]["Metadata"]["BuildProperties"].update(Binary="health"),
            "already built for",
        ),
        (lambda ws, t: ws.pop(LAMBDA_PACKAGE), "workspace has no package 'wsdr-lambda'"),
    ],
    ids=["bin-removed", "typo", "no-binary", "ambiguous", "shared", "no-package"],
)
def test_checker_catches_regression(change, expected):
    workspace = {name: {"manifest": info["manifest"], "bins": set(info["bins"])} for name, info in FAKE.items()}
    template = cc.loads_template((INFRA / "template.yaml").read_text(encoding="utf-8"))
    change(workspace, template)
    problems = check_lambda_binaries(template, workspace)
    assert any(expected in p for p in problems), problems
