"""Secrets sealed at rest: AES-256-GCM with a key file outside the database (gateway.security.secretbox)."""

from __future__ import annotations

import dataclasses
import logging
import stat

import pytest

from gateway.app import create_app
from gateway.security import secretbox
from tests.conftest import make_topology


def test_seal_and_open(tmp_path):
    key = secretbox.ensure_key(tmp_path / "keys" / "totp_key")
    sealed = secretbox.seal(key, "JBSWY3DPEHPK3PXP", "portal-totp:anna")
    assert secretbox.is_sealed(sealed) and "JBSWY3DPEHPK3PXP" not in sealed
    assert secretbox.seal(key, "JBSWY3DPEHPK3PXP", "portal-totp:anna") != sealed  # a fresh nonce each time
    assert secretbox.unseal(key, sealed, "portal-totp:anna") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(secretbox.SealedSecretError, match="does not open"):
        secretbox.unseal(key, sealed, "portal-totp:mallory")  # copied to another account's row
    with pytest.raises(secretbox.SealedSecretError, match="malformed"):
        secretbox.unseal(key, secretbox.PREFIX + "no-colon", "portal-totp:anna")


def test_the_key_file_is_private_and_kept(tmp_path):
    path = tmp_path / "secrets" / "totp_key"
    key = secretbox.ensure_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secretbox.ensure_key(path) == key == secretbox.load_key(path)  # never replaced once there
    assert [p.name for p in path.parent.iterdir()] == ["totp_key"]  # no temporary file left behind


def test_another_or_a_lost_key_is_told_clearly(tmp_path):
    sealed = secretbox.seal(secretbox.ensure_key(tmp_path / "old_key"), "JBSWY3DPEHPK3PXP", "ctx")
    new = secretbox.ensure_key(tmp_path / "new_key")
    with pytest.raises(secretbox.SealedSecretError, match=f"the key file holds key {secretbox.key_id(new)}"):
        secretbox.unseal(new, sealed, "ctx")
    with pytest.raises(secretbox.SecretKeyError, match="missing_key: key file is missing"):
        secretbox.load_key(tmp_path / "missing_key")
    (tmp_path / "bad_key").write_text("not a key\n")
    with pytest.raises(secretbox.SecretKeyError, match="bad_key: not a key file"):
        secretbox.load_key(tmp_path / "bad_key")


def test_a_totp_key_beside_the_database_is_warned_about_at_start_and_on_status(tmp_path, caplog):
    """Review of #24, finding 7: by default the key lies in the data dir, on the database's volume and in
    its backups; the start-up log and /_status (public listener) say so until totp_key_file points elsewhere."""
    topo = make_topology(tmp_path / "home", ["FR", "DE"])
    topo.prepare()
    cfg = topo.configs["DE"]
    with caplog.at_level(logging.WARNING, logger="ncpeh.runtime"):
        client = create_app(cfg, "public").test_client()
    assert any(f"the TOTP key {cfg.data_dir / 'totp_key'} is in the data directory" in r.getMessage()
               and "NCPEH_TOTP_KEY_FILE" in r.getMessage() for r in caplog.records), caplog.text
    check = client.get("/_status").get_json()["checks"]["totp_key"]
    assert check == {"status": "warning", "code": "TOTP_KEY_IN_DATA_DIR"}  # a code, no path

    caplog.clear()
    apart = dataclasses.replace(cfg, totp_key_file=tmp_path / "secrets" / "totp_key")
    with caplog.at_level(logging.WARNING, logger="ncpeh.runtime"):
        client = create_app(apart, "public").test_client()
    assert "TOTP key" not in caplog.text
    assert client.get("/_status").get_json()["checks"]["totp_key"] == {"status": "ok"}
    assert "totp_key" not in create_app(apart, "ncp").test_client().get("/_status").get_json()["checks"]
