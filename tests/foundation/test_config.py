"""Country configuration: TOML + environment overrides, validated with messages naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ENV_OVERRIDES, ConfigError, country_file, load_config

VALID = """
code = "FR"
name = "France"
languages = ["fr", "en"]
[identifier]
scheme = "ins-nir"
system = "urn:oid:1.2.250.1.213.1.4.8"
search_mask = ["identifier", "family"]
[public]
port = 8443
[ncp]
port = 9443
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xx.toml"
    path.write_text(text)
    return path


def test_packaged_countries_load():
    for code in ("FR", "DE"):
        cfg = load_config(country_file(code), env={})
        assert cfg.code == code
        assert cfg.identifier.system.startswith(("urn:oid:", "http"))
        assert cfg.public.url.startswith("https://")


def test_defaults_and_paths(tmp_path):
    cfg = load_config(write(tmp_path, VALID), env={"NCPEH_HOME": str(tmp_path)})
    assert cfg.default_language == "fr"
    assert cfg.data_dir == tmp_path / "var" / "fr"
    assert cfg.database_path.name == "ncpeh.sqlite3"
    assert cfg.certs.server_cert == tmp_path / "certs" / "fr" / "tls-server.crt"
    assert cfg.trust_list == tmp_path / "certs" / "trustlist.jws"


def test_environment_overrides(tmp_path):
    env = {"NCPEH_HOME": str(tmp_path), "NCPEH_PUBLIC_PORT": "18443", "NCPEH_NCP_URL": "https://fr.example:9",
           "NCPEH_LANGUAGES": "fr,en,de", "NCPEH_DATA_DIR": "/srv/data"}
    cfg = load_config(write(tmp_path, VALID), env=env)
    assert cfg.public.port == 18443
    assert cfg.ncp.url == "https://fr.example:9"
    assert cfg.languages == ("fr", "en", "de")
    assert cfg.data_dir == Path("/srv/data")


SAMPLES = {
    "NCPEH_HOME": ("/srv/home", lambda c: str(c.home)),
    "NCPEH_DATA_DIR": ("/srv/data", lambda c: str(c.data_dir)),
    "NCPEH_CERTS_DIR": ("/srv/certs", lambda c: str(c.certs_dir)),
    "NCPEH_TRUST_LIST": ("/srv/tl.jws", lambda c: str(c.trust_list)),
    "NCPEH_NAME": ("République", lambda c: c.name),
    "NCPEH_LANGUAGES": ("fr,de", lambda c: ",".join(c.languages)),
    "NCPEH_DEFAULT_LANGUAGE": ("en", lambda c: c.default_language),
    "NCPEH_PUBLIC_HOST": ("0.0.0.0", lambda c: c.public.host),
    "NCPEH_PUBLIC_PORT": ("1234", lambda c: str(c.public.port)),
    "NCPEH_PUBLIC_URL": ("https://fr.example", lambda c: c.public.url),
    "NCPEH_NCP_HOST": ("0.0.0.0", lambda c: c.ncp.host),
    "NCPEH_NCP_PORT": ("4321", lambda c: str(c.ncp.port)),
    "NCPEH_NCP_URL": ("https://ncp.fr.example", lambda c: c.ncp.url),
    "NCPEH_WORKERS": ("3", lambda c: str(c.workers)),
    "NCPEH_THREADS": ("5", lambda c: str(c.threads)),
    "NCPEH_PEER_CONNECT_TIMEOUT": ("1.5", lambda c: str(c.peer_connect_timeout)),
    "NCPEH_PEER_READ_TIMEOUT": ("2.5", lambda c: str(c.peer_read_timeout)),
    "NCPEH_RATE_PER_MINUTE": ("60", lambda c: str(c.rate_per_minute)),
    "NCPEH_RATE_BURST": ("7", lambda c: str(c.rate_burst)),
    "NCPEH_TOKEN_FAILURES_PER_ADDRESS": ("9", lambda c: str(c.token_failures_per_address)),
    "NCPEH_TOKEN_FAILURES_PER_CLIENT": ("4", lambda c: str(c.token_failures_per_client)),
    "NCPEH_SERVER_TIMING": ("1", lambda c: "1" if c.server_timing else "0"),
    "NCPEH_DATABASE_URL": ("postgresql://ncpeh@db.example:5432/ncpeh_fr", lambda c: c.database_url),
    "NCPEH_SECRET_KEY": ("s3cret", lambda c: c.secret_key),
    "NCPEH_TOTP_KEY_FILE": ("/run/secrets/totp_key", lambda c: str(c.totp_key_path)),
    "NCPEH_KEY_PASSWORD": ("pw", lambda c: c.key_password),
    "NCPEH_LOG_LEVEL": ("debug", lambda c: c.log_level),
    "NCPEH_AUDIT_CHECKPOINTS": ("/srv/audit/checkpoints.jws", lambda c: str(c.audit_checkpoints)),
    "NCPEH_AUDIT_CHECKPOINT_EVERY": ("50", lambda c: str(c.checkpoint_every)),
    "NCPEH_AUDIT_CHECKPOINT_SECONDS": ("30.5", lambda c: str(c.checkpoint_seconds)),
    "NCPEH_HCP_LIFETIME": ("900", lambda c: str(c.hcp_lifetime)),
}


def test_every_documented_override_is_applied(tmp_path):
    assert set(SAMPLES) == set(ENV_OVERRIDES)
    path = write(tmp_path, VALID)
    for var, (value, read) in SAMPLES.items():
        cfg = load_config(path, env={var: value})
        assert read(cfg) == value, var


@pytest.mark.parametrize(
    "edit, setting, words",
    [
        (lambda t: t.replace('code = "FR"\n', ""), "code", "is missing"),
        (lambda t: t.replace('"FR"', '"FRA"'), "code", "two-letter"),
        (lambda t: t.replace("port = 8443", 'port = "high"'), "public.port", "whole number"),
        (lambda t: t.replace("port = 8443", "port = 70000"), "public.port", "between"),
        (lambda t: t.replace('["fr", "en"]', '["fr", "xx"]'), "languages", "supported"),
        (lambda t: t.replace('["identifier", "family"]', '["family"]'), "identifier.search_mask", "identifier"),
        (lambda t: t.replace('["identifier", "family"]', '["identifier", "shoe_size"]'),
         "identifier.search_mask", "unknown trait"),
        (lambda t: t.replace("port = 9443", "port = 8443"), "ncp.port", "same as public.port"),
        (lambda t: t.replace('name = "France"', 'name = "France"\ndefault_language = "de"'),
         "default_language", "must be one of"),
        (lambda t: t.replace("[identifier]", "[identifier\n"), "file", "not valid TOML"),
        (lambda t: 'server_timing = "sometimes"\n' + t, "server_timing", "true or false"),
        (lambda t: t + "\n[assertions]\nhcp_lifetime = 3601\n", "assertions.hcp_lifetime", "between 120 and 3600"),
    ],
)
def test_invalid_configuration_names_file_and_setting(tmp_path, edit, setting, words):
    path = write(tmp_path, edit(VALID))
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert str(path) in message
    assert f"'{setting}'" in message
    assert words in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})


def test_invalid_environment_override_is_named(tmp_path):
    with pytest.raises(ConfigError, match="'ncp.port' must be a whole number"):
        load_config(write(tmp_path, VALID), env={"NCPEH_NCP_PORT": "eighty"})


def test_database_url_must_be_a_postgresql_url_and_is_never_echoed_with_its_password(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(country_file("FR"), env={"NCPEH_HOME": str(tmp_path),
                                             "NCPEH_DATABASE_URL": "mysql://ncpeh:s3cret-pw@db.example/ncpeh"})
    assert info.value.setting == "database.url" and "postgresql://" in str(info.value)
    assert "s3cret-pw" not in str(info.value)
    cfg = load_config(country_file("FR"), env={"NCPEH_HOME": str(tmp_path)})
    assert cfg.database_url is None and cfg.database == cfg.database_path  # SQLite by default
