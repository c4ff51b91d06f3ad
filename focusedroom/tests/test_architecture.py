"""The architecture rules fail the build when broken: import contracts and the GDPR system check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.checks import gdpr_parts_cover_person_models
from focusedroom import registries

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("focusedroom", "accounts", "profiles", "engagement", "experiments", "rewards", "integrations")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / ".importlinter"), "--no-cache"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the project's Python packages, to break on purpose."""
    target = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            target / package,
            ignore=lambda d, names: [n for n in names if n.endswith((".pyc", ".html", ".js", ".css", ".json"))],
        )
    shutil.copy(ROOT / ".importlinter", target / ".importlinter")
    return target


def test_the_project_keeps_its_contracts():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "message"),
    [
        ("accounts/probe_up.py", "from rewards import services\n", "accounts is not allowed to import rewards"),
        (
            "experiments/probe_side.py",
            "from rewards import selectors\n",
            "experiments is not allowed to import rewards",
        ),
        ("engagement/probe_internal.py", "from accounts import models\n", "only services, selectors and signals"),
        ("rewards/probe_admin.py", "import engagement.admin\n", "only services, selectors and signals"),
        ("focusedroom/probe_plumbing.py", "from accounts import selectors\n", "the plumbing imports no app"),
    ],
)
def test_a_forbidden_import_breaks_the_build(tree, module, source, message):
    probe = tree / module
    probe.write_text(source)
    try:
        result = _lint(tree)
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert message in " ".join(result.stdout.split()), result.stdout


def test_a_person_model_without_a_gdpr_part_fails_the_system_check(monkeypatch):
    assert gdpr_parts_cover_person_models() == []
    monkeypatch.delitem(registries.gdpr_parts._entries, "rewards")
    errors = gdpr_parts_cover_person_models()
    assert errors and {e.id for e in errors} == {"accounts.E001"}
    assert any("rewards.Wallet" in e.msg for e in errors)
