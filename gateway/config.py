"""Per-country configuration: a TOML file per country plus environment overrides.

One running instance serves one country. The loader validates everything up front and raises
:class:`ConfigError` naming the file and the setting, so that start-up stops with a clear message
instead of failing later in a request.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.records.identifiers import IDENTIFIER_SCHEMES
from terminology.model import SUPPORTED_LANGUAGES  # a country's languages must be among them

PACKAGED_COUNTRIES = Path(__file__).parent / "countries"

#: Identity traits a country may require in its patient search mask (IHE PDQm parameter names).
KNOWN_TRAITS = ("identifier", "family", "given", "birthdate", "gender", "birthplace")

#: Environment variables that override a country file, and the setting each one sets.
ENV_OVERRIDES: dict[str, str] = {
    "NCPEH_HOME": "home",
    "NCPEH_DATA_DIR": "data_dir",
    "NCPEH_CERTS_DIR": "certs_dir",
    "NCPEH_TRUST_LIST": "trust_list",
    "NCPEH_NAME": "name",
    "NCPEH_LANGUAGES": "languages",
    "NCPEH_DEFAULT_LANGUAGE": "default_language",
    "NCPEH_PUBLIC_HOST": "public.host",
    "NCPEH_PUBLIC_PORT": "public.port",
    "NCPEH_PUBLIC_URL": "public.url",
    "NCPEH_NCP_HOST": "ncp.host",
    "NCPEH_NCP_PORT": "ncp.port",
    "NCPEH_NCP_URL": "ncp.url",
    "NCPEH_WORKERS": "server.workers",
    "NCPEH_THREADS": "server.threads",
    "NCPEH_PEER_CONNECT_TIMEOUT": "peers.connect_timeout",
    "NCPEH_PEER_READ_TIMEOUT": "peers.read_timeout",
    "NCPEH_RATE_PER_MINUTE": "partner_api.rate_per_minute",
    "NCPEH_RATE_BURST": "partner_api.rate_burst",
    "NCPEH_TOKEN_FAILURES_PER_ADDRESS": "partner_api.token_failures_per_address",
    "NCPEH_TOKEN_FAILURES_PER_CLIENT": "partner_api.token_failures_per_client",
    "NCPEH_SECRET_KEY": "secret_key",
    "NCPEH_TOTP_KEY_FILE": "totp_key_file",
    "NCPEH_KEY_PASSWORD": "key_password",
    "NCPEH_LOG_LEVEL": "log_level",
    "NCPEH_AUDIT_CHECKPOINTS": "audit.checkpoint_file",
    "NCPEH_AUDIT_CHECKPOINT_EVERY": "audit.checkpoint_every",
    "NCPEH_AUDIT_CHECKPOINT_SECONDS": "audit.checkpoint_seconds",
    "NCPEH_SERVER_TIMING": "server_timing",
    "NCPEH_HCP_LIFETIME": "assertions.hcp_lifetime",
    "NCPEH_DATABASE_URL": "database.url",
}


class ConfigError(Exception):
    """A configuration problem; the message names the file and the setting."""

    def __init__(self, source: str, setting: str, problem: str) -> None:
        self.source, self.setting, self.problem = source, setting, problem
        super().__init__(f"{source}: setting '{setting}' {problem}")


@dataclass(frozen=True)
class Listener:
    host: str
    port: int
    url: str


@dataclass(frozen=True)
class IdentifierConfig:
    scheme: str
    system: str
    label: str
    search_mask: tuple[str, ...]


@dataclass(frozen=True)
class CertPaths:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    signing_key: Path


@dataclass(frozen=True)
class CountryConfig:
    code: str
    name: str
    languages: tuple[str, ...]
    default_language: str
    identifier: IdentifierConfig
    public: Listener
    ncp: Listener
    home: Path
    data_dir: Path
    certs_dir: Path
    trust_list: Path
    certs: CertPaths
    source: str
    workers: int = 1
    threads: int = 8
    peer_connect_timeout: float = 3.0
    peer_read_timeout: float = 10.0
    #: Partner API: requests per minute and burst allowed per client (token bucket shared by the workers).
    rate_per_minute: int = 1200
    rate_burst: int = 300
    #: /oauth/token: failed client authentications allowed at once, then per minute, per source address and
    #: per submitted client id (429 with Retry-After beyond, the right secret included).
    token_failures_per_address: int = 30
    token_failures_per_client: int = 20
    secret_key: str | None = field(default=None, repr=False)
    key_password: str | None = field(default=None, repr=False)
    log_level: str = "info"
    #: Answer with a Server-Timing header (this side's stages, and the foreign side's as ``peer-*``): for
    #: the benchmark; off by default, partner software would otherwise see the internal stage timings.
    server_timing: bool = False
    testing: bool = False
    #: The key sealing the portal's TOTP secrets (outside the database); default ``<data_dir>/totp_key``.
    totp_key_file: Path | None = None
    #: Audit chain anchoring: the append-only file of signed checkpoints, written after every
    #: ``checkpoint_every`` records and at least every ``checkpoint_seconds`` while records are added.
    audit_checkpoint_file: Path | None = None
    checkpoint_every: int = 100
    checkpoint_seconds: float = 60.0
    #: Country B: lifetime (seconds) of the HCP identity assertion signed once per clinician session and
    #: destination (at most one hour, as eHDSI; renewed 60 s before it expires).
    hcp_lifetime: int = 3600
    #: ``postgresql://…``: the country's database is PostgreSQL (shared by its replicas); None: embedded SQLite.
    database_url: str | None = None

    @property
    def database_path(self) -> Path:
        return self.data_dir / "ncpeh.sqlite3"

    @property
    def database(self) -> str | Path:
        """What :func:`gateway.storage.open_store` opens: the PostgreSQL URL, or the SQLite file."""
        return self.database_url or self.database_path

    @property
    def ratelimit_database(self) -> str | Path:
        """Where the partner API's token buckets live: the shared PostgreSQL database, or a SQLite file of their own."""
        return self.database_url or self.data_dir / "ratelimit.sqlite3"

    @property
    def totp_key_path(self) -> Path:
        return self.totp_key_file or self.data_dir / "totp_key"

    @property
    def totp_key_in_data_dir(self) -> bool:
        """Whether the TOTP key lies beside the database (same volume, same backups: a copy of both opens
        the second factors); the default until ``totp_key_file`` (``NCPEH_TOTP_KEY_FILE``) points elsewhere."""
        return self.totp_key_path.resolve().is_relative_to(self.data_dir.resolve())

    @property
    def audit_checkpoints(self) -> Path:
        """The checkpoint file (``audit.checkpoint_file``; default ``audit-checkpoints.jws`` in the data dir)."""
        return self.audit_checkpoint_file or self.data_dir / "audit-checkpoints.jws"

    @property
    def slug(self) -> str:
        return self.code.lower()


def client_credentials(cfg: CountryConfig, client_id: str, secret: str | None) -> dict[str, Any]:
    """What partner software needs to call this country's partner API (printed by ``ncpeh clients add``)."""
    return {
        "client_id": client_id,
        "client_secret": secret,
        "token_url": f"{cfg.public.url}/oauth/token",
        "fhir_base": f"{cfg.public.url}/fhir",
    }


def country_file(code_or_path: str, config_dir: Path | None = None) -> Path:
    """Resolve ``FR`` or ``fr`` or a path to a country TOML file."""
    candidate = Path(code_or_path)
    if candidate.suffix == ".toml":
        return candidate
    for folder in ([config_dir] if config_dir else []) + [PACKAGED_COUNTRIES]:
        path = folder / f"{code_or_path.lower()}.toml"
        if path.exists():
            return path
    raise ConfigError(str(config_dir or PACKAGED_COUNTRIES), "code", f"has no country file for {code_or_path!r}")


def available_countries(config_dir: Path | None = None) -> list[str]:
    folders = [PACKAGED_COUNTRIES] + ([config_dir] if config_dir else [])
    codes = {p.stem.upper() for folder in folders for p in folder.glob("*.toml")}
    return sorted(codes)


def load_config(
    path: str | Path,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> CountryConfig:
    """Load and validate one country's configuration.

    ``env`` defaults to ``os.environ``; only the variables in :data:`ENV_OVERRIDES` are read.
    ``overrides`` (dotted keys, e.g. ``{"public.port": 0}``) win over both.
    """
    path = Path(path)
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, "file", "does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, "file", f"cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "file", f"is not valid TOML: {exc}") from None
    env = os.environ if env is None else env
    for var, key in ENV_OVERRIDES.items():
        if env.get(var) not in (None, ""):
            _set_dotted(raw, key, env[var])
    for key, value in (overrides or {}).items():
        _set_dotted(raw, key, value)
    return _build(raw, source)


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


class _Reader:
    """Typed accessors that raise ConfigError with the setting's dotted name."""

    def __init__(self, raw: dict[str, Any], source: str) -> None:
        self.raw, self.source = raw, source

    def _get(self, key: str, default: Any = ...) -> Any:
        node: Any = self.raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is ...:
                    raise ConfigError(self.source, key, "is missing")
                return default
            node = node[part]
        return node

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, key, problem)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self._get(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.strip().lower() in ("1", "true", "yes", "on")
        raise self.error(key, f"must be true or false (1 or 0), got {value!r}")

    def text(self, key: str, default: Any = ...) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def integer(self, key: str, default: Any = ..., low: int = 0, high: int = 65535) -> int:
        value = self._get(key, default)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise self.error(key, f"must be a whole number, got {value!r}") from None
        if isinstance(value, bool) or not low <= number <= high:
            raise self.error(key, f"must be between {low} and {high}, got {value!r}")
        return number

    def number(self, key: str, default: Any = ...) -> float:
        value = self._get(key, default)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(key, f"must be a number, got {value!r}") from None
        if number <= 0:
            raise self.error(key, f"must be positive, got {value!r}")
        return number

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value = self._get(key, default)
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"must be a non-empty list of strings, got {value!r}")
        return tuple(value)


#: Identifier scheme of a country whose check rule the gateway does not implement: values are only trimmed.
GENERIC_SCHEME = "generic"


def _check_identifier_scheme(r: _Reader, identifier: IdentifierConfig) -> None:
    """A scheme the gateway validates (with its own system), or ``generic`` with a URI as system."""
    if identifier.scheme == GENERIC_SCHEME:
        if not identifier.system.startswith(("urn:", "http://", "https://")):
            raise r.error("identifier.system", f"must be a URI (urn:oid:..., http...), got {identifier.system!r}")
        return
    scheme = IDENTIFIER_SCHEMES.get(identifier.scheme)
    if scheme is None:
        known = ", ".join([*sorted(IDENTIFIER_SCHEMES), GENERIC_SCHEME])
        raise r.error("identifier.scheme", f"is unknown: {identifier.scheme!r}; known: {known}")
    if identifier.system != scheme.system:
        raise r.error("identifier.system", f"must be {scheme.system!r} for scheme {scheme.name!r}, got {identifier.system!r}")


def _build(raw: dict[str, Any], source: str) -> CountryConfig:
    """The configuration of one country from its raw values; the first invalid value raises (in reading order)."""
    r = _Reader(raw, source)
    code = r.text("code").upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise r.error("code", f"must be a two-letter country code, got {code!r}")
    languages, default_language = _languages(r)
    identifier = _identifier(r)
    home = Path(r.text("home", os.getcwd())).expanduser()

    def path(key: str, default: str) -> Path:
        value = Path(r.text(key, default)).expanduser()
        return value if value.is_absolute() else home / value

    public, ncp = _listeners(r)
    certs_dir = path("certs_dir", "certs")
    slug = code.lower()
    certs = _cert_paths(path, certs_dir, slug)
    log_level = r.text("log_level", "info").lower()
    if log_level not in ("debug", "info", "warning", "error", "critical"):
        raise r.error("log_level", f"must be debug, info, warning, error or critical, got {log_level!r}")
    return CountryConfig(
        code=code,
        name=r.text("name"),
        languages=languages,
        default_language=default_language,
        identifier=identifier,
        public=public,
        ncp=ncp,
        home=home,
        data_dir=path("data_dir", f"var/{slug}"),
        certs_dir=certs_dir,
        trust_list=path("trust_list", str(certs_dir / "trustlist.jws")),
        certs=certs,
        workers=r.integer("server.workers", 1, low=1, high=64),
        threads=r.integer("server.threads", 8, low=1, high=256),
        peer_connect_timeout=r.number("peers.connect_timeout", 3.0),
        peer_read_timeout=r.number("peers.read_timeout", 10.0),
        rate_per_minute=r.integer("partner_api.rate_per_minute", 1200, low=1, high=1_000_000),
        rate_burst=r.integer("partner_api.rate_burst", 300, low=1, high=1_000_000),
        token_failures_per_address=r.integer("partner_api.token_failures_per_address", 30, low=1, high=1_000_000),
        token_failures_per_client=r.integer("partner_api.token_failures_per_client", 20, low=1, high=1_000_000),
        secret_key=raw.get("secret_key") or None,
        key_password=raw.get("key_password") or None,
        log_level=log_level,
        server_timing=r.flag("server_timing"),
        testing=bool(raw.get("testing", False)),
        totp_key_file=path("totp_key_file", "") if raw.get("totp_key_file") else None,
        audit_checkpoint_file=path("audit.checkpoint_file", "") if r._get("audit.checkpoint_file", None) else None,
        checkpoint_every=r.integer("audit.checkpoint_every", 100, low=1, high=1_000_000),
        checkpoint_seconds=r.number("audit.checkpoint_seconds", 60.0),
        hcp_lifetime=r.integer("assertions.hcp_lifetime", 3600, low=120, high=3600),
        database_url=_database_url(r),
        source=source,
    )


def _database_url(r: _Reader) -> str | None:
    url = r.text("database.url") if r._get("database.url", None) else None
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        raise r.error("database.url", f"must be a postgresql:// URL (or unset for SQLite), got {url.split('@')[-1]!r}")
    return url


def _languages(r: _Reader) -> tuple[tuple[str, ...], str]:
    """The portal's languages and the default one."""
    languages = tuple(lang.lower() for lang in r.strings("languages"))
    for lang in languages:
        if lang not in SUPPORTED_LANGUAGES:
            raise r.error("languages", f"contains {lang!r}; supported: {', '.join(SUPPORTED_LANGUAGES)}")
    default_language = r.text("default_language", languages[0]).lower()
    if default_language not in languages:
        raise r.error("default_language", f"must be one of languages {list(languages)}, got {default_language!r}")
    return languages, default_language


def _identifier(r: _Reader) -> IdentifierConfig:
    """The national identifier: scheme, system, label and the traits a search needs."""
    mask = r.strings("identifier.search_mask")
    for trait in mask:
        if trait not in KNOWN_TRAITS:
            raise r.error("identifier.search_mask", f"contains unknown trait {trait!r}; known: {KNOWN_TRAITS}")
    if "identifier" not in mask:
        raise r.error("identifier.search_mask", "must include 'identifier'")
    identifier = IdentifierConfig(
        scheme=r.text("identifier.scheme"),
        system=r.text("identifier.system"),
        label=r.text("identifier.label", r.text("identifier.scheme")),
        search_mask=mask,
    )
    _check_identifier_scheme(r, identifier)
    return identifier


def _listeners(r: _Reader) -> tuple[Listener, Listener]:
    """The public listener and the NCP (peer) listener, on different addresses."""
    public, ncp = _listener(r, "public"), _listener(r, "ncp")
    if public.port and public.port == ncp.port and public.host == ncp.host:
        raise r.error("ncp.port", f"is the same as public.port ({public.port})")
    return public, ncp


def _listener(r: _Reader, name: str) -> Listener:
    """One listener's host, port and https URL."""
    host = r.text(f"{name}.host", "127.0.0.1")
    port = r.integer(f"{name}.port")
    url = r.text(f"{name}.url", f"https://{host}:{port}").rstrip("/")
    if not url.startswith("https://"):
        raise r.error(f"{name}.url", f"must be an https:// URL, got {url!r}")
    return Listener(host=host, port=port, url=url)


def _cert_paths(path: Callable[[str, str], Path], certs_dir: Path, slug: str) -> CertPaths:
    """The country's certificate and key files, by default under ``certs_dir``."""
    return CertPaths(
        ca_cert=path("certs.ca_cert", str(certs_dir / "ca" / "ca.crt")),
        server_cert=path("certs.server_cert", str(certs_dir / slug / "tls-server.crt")),
        server_key=path("certs.server_key", str(certs_dir / slug / "tls-server.key")),
        client_cert=path("certs.client_cert", str(certs_dir / slug / "tls-client.crt")),
        client_key=path("certs.client_key", str(certs_dir / slug / "tls-client.key")),
        signing_key=path("certs.signing_key", str(certs_dir / slug / "signing.key")),
    )
