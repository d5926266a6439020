"""Module maintainers from CODEOWNERS: GitHub's syntax, and modules that follow the repository."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from bot.core.codeowners import module_owners, owners_of, parse_codeowners
from bot.features.reminders import module_registry
from bot.store import Store
from bot.store import sources as source_store

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2024, 1, 1, tzinfo=UTC)

# Examples of GitHub's "About code owners" page, and TVM-like module rules.
CODEOWNERS = """\
# Default owners, unless a later match takes precedence.
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
/apps/github
/python/tvm/relay/ @jroesch @tqchen
/python/tvm/relay/frontend/ @masahi
/src/relay/**/*.cc @jroesch
/vta/ @apache/tvm-vta
"""


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ("@global-owner1", "@global-owner2")),
        ("web/app.js", ("@js-owner",)),
        ("build/logs/today.log", ("@doctocat",)),
        ("build/logs/deep/down.log", ("@doctocat",)),
        ("docs/getting-started.md", ("@doctocat",)),  # /docs/ comes after docs/*
        ("lib/docs/guide.md", ("@global-owner1", "@global-owner2")),  # docs/* is anchored
        ("docs/deep/guide.md", ("@doctocat",)),
        ("somewhere/apps/x.py", ("@octocat",)),
        ("apps/github/readme.md", ()),  # a rule without owners takes ownership away
        ("python/tvm/relay/expr.py", ("@jroesch", "@tqchen")),
        ("python/tvm/relay/frontend/onnx.py", ("@masahi",)),
        ("src/relay/op/nn/conv.cc", ("@jroesch",)),
    ],
)
def test_owners_follow_githubs_rules(path: str, owners: tuple[str, ...]):
    assert owners_of(path, parse_codeowners(CODEOWNERS)) == owners


def test_a_module_is_owned_by_its_directory_and_the_parts_inside_it():
    rules = parse_codeowners(CODEOWNERS)
    assert module_owners(["python/tvm/relay/**"], rules) == ("@jroesch", "@tqchen", "@masahi")
    assert module_owners(["vta/**"], rules) == ("@apache/tvm-vta",)
    assert module_owners(["python/tvm/relay/frontend/*.py"], rules) == ("@masahi",)


def _config(tmp_path: Path, maintainers: str, extra: str = "") -> Path:
    (tmp_path / "CODEOWNERS").write_text(CODEOWNERS)
    config = tmp_path / "quorum.toml"
    config.write_text(
        f'[modules.relay]\nstate = "S1"\npaths = ["python/tvm/relay/**"]\n'
        f"maintainers = {maintainers}\n{extra}"
    )
    return config


def test_maintainers_from_a_codeowners_file_become_people_the_identities_know(tmp_path: Path):
    config = load_config(
        _config(
            tmp_path,
            '{ from = "CODEOWNERS", file = "CODEOWNERS" }',
            '[identities]\n"Tianqi Chen" = ["tqchen", "tqchen@apache.org"]\n',
        )
    )
    (relay,) = module_registry(config)
    assert relay.maintainers == ("jroesch", "Tianqi Chen", "masahi")


def test_maintainers_from_the_codeowners_github_gave(tmp_path: Path, store: Store):
    config = load_config(
        _config(tmp_path, '{ from = "CODEOWNERS" }', '[github]\nrepos = ["apache/tvm"]\n')
    )
    assert module_registry(config, store)[0].maintainers == ()  # not fetched yet
    source_store.store_file(store, "apache/tvm", "CODEOWNERS", CODEOWNERS, now=NOW)
    assert module_registry(config, store)[0].maintainers == ("jroesch", "tqchen", "masahi")


def test_modules_command_shows_them_and_a_missing_file_is_one_clear_error(tmp_path: Path):
    config = _config(tmp_path, '{ from = "CODEOWNERS", file = "CODEOWNERS" }')
    Store.open(tmp_path / "q.db").close()  # reading commands never create a database

    def modules(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "--db", str(tmp_path / "q.db"), "--config", str(path),
             "modules", "--json"],
            capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        )  # fmt: skip

    shown = modules(config)
    assert shown.returncode == 0, shown.stderr
    (relay,) = json.loads(shown.stdout)["modules"]
    assert relay["maintainers"] == ["jroesch", "tqchen", "masahi"]
    broken = _config(tmp_path / "..", '{ from = "CODEOWNERS", file = "nowhere/CODEOWNERS" }')
    failed = modules(broken)
    assert failed.returncode == 2
    assert "modules.relay.maintainers: cannot read" in failed.stderr
    assert "Traceback" not in failed.stderr
    typo = _config(tmp_path, '{ from = "OWNERS" }')
    assert "modules.relay.maintainers" in modules(typo).stderr
