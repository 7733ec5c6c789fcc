"""The ``ncpeh`` command line: certificates, trust list, database, serving, demo.

Its commands are registered on :data:`gateway.cli_common.main`, as are the groups of the other command
modules (``audit``, ``clients``, ``terminology``, ``users``, ``conformance``), added at the end of this module.
"""

from __future__ import annotations

import http.client
import json
import ssl
import sys
import time
from dataclasses import asdict
from pathlib import Path

import click

from gateway import storage
from gateway.cli_audit import audit
from gateway.cli_clients import clients
from gateway.cli_common import (
    ENV_CONFIG_DIR,
    ENV_COUNTRY,
    config_dir,
    consent_draft,
    country_option,
    fail,
    friendly_errors,
    load_country,
    main,
    parse_countries,
    record_admin,
)
from gateway.cli_conformance import conformance
from gateway.cli_terminology import terminology_group
from gateway.cli_users import users
from gateway.config import CountryConfig, client_credentials
from gateway.security import pki, trustlist
from gateway.security.tls import client_context
from gateway.security.trust_sequence import SequenceState
from gateway.server.demo import prepare_country, run_demo
from gateway.server.gunicorn_app import serve as run
from gateway.server.supervisor import LISTENERS, preflight, supervise
from gateway.services.accounts import seal_plaintext_totp_secrets
from gateway.services.identify import validate_identifier
from gateway.services.population import count_documents, import_paths, seed_population

__all__ = ["ENV_CONFIG_DIR", "ENV_COUNTRY", "client_credentials", "fail", "friendly_errors", "load_country", "main"]

# --- certificates and trust list ---------------------------------------------------------------


@main.command("init-certs")
@click.option("--countries", help="Comma-separated country codes (default: every configured country).")
@click.option("--force", is_flag=True, help="Replace existing keys (otherwise they are kept).")
@click.option("--trust-list", "with_trust_list", is_flag=True,
              help="Also sign the trust list for these countries, unless the existing one is up to date "
                   "(see 'trust-list build --if-needed'). For one-shot containers.")
@friendly_errors
def init_certs(countries: str | None, force: bool, with_trust_list: bool) -> None:
    """Create the demo PKI: central root CA, and per country TLS server/client certificates and a signing key."""
    configs = [load_country(code) for code in parse_countries(countries)]
    if not configs:
        fail("no country to create certificates for")
    certs_dir = configs[0].certs_dir
    password = configs[0].key_password
    issued = pki.ensure_ca(certs_dir, force=force, password=password)
    for cfg in configs:
        hosts = {cfg.public.host, cfg.ncp.host}
        issued += pki.ensure_country(certs_dir, cfg.code, hostnames=sorted(hosts), force=force, password=password)
    for item in issued:
        click.echo(f"{item.action:9} {item.path}")
    if with_trust_list:
        sign_trust_list(configs, days=30, output=None, if_needed=True)


@main.group("trust-list")
def trust_list() -> None:
    """Build, verify and show the signed trust list."""

@trust_list.command("build")
@click.option("--countries", help="Comma-separated country codes (default: every configured country).")
@click.option("--days", default=30, show_default=True, help="Validity of the list.")
@click.option("--output", type=click.Path(path_type=Path), help="Where to write it (default: the configured path).")
@click.option("--if-needed", is_flag=True,
              help="Do nothing when the existing list is valid for 7 more days and already names these countries "
                   "with their current URLs, certificates and keys (other countries it names are then kept).")
@friendly_errors
def trust_list_build(countries: str | None, days: int, output: Path | None, if_needed: bool) -> None:
    """Sign a trust list naming the given countries with the central CA key."""
    configs = [load_country(code) for code in parse_countries(countries)]
    sign_trust_list(configs, days, output, if_needed)


def sign_trust_list(configs: list[CountryConfig], days: int, output: Path | None, if_needed: bool) -> None:
    if not configs:
        fail("no country to put in the trust list")
    target = output or configs[0].trust_list
    codes = ", ".join(cfg.code for cfg in configs)
    if if_needed and trustlist.is_current(configs, target, configs[0].certs.ca_cert, min_days=min(7, days // 2),
                                          allow_extra=True):
        click.echo(f"trust list {target} is up to date: {codes}")
        return
    payload = trustlist.build(configs, configs[0].certs_dir, target, days=days, key_password=configs[0].key_password)
    codes = ", ".join(c["code"] for c in payload["countries"])
    for cfg in configs:
        record_admin(cfg, "trust-list.build", action="C", sequence=payload["seq"], days=days,
                     countries=[c["code"] for c in payload["countries"]])
    click.echo(f"trust list #{payload['seq']} written to {target}: {codes} (valid {days} days)")


@trust_list.command("verify")
@click.option("--path", type=click.Path(path_type=Path), help="Trust list file (default: configured path).")
@country_option
@friendly_errors
def trust_list_verify(path: Path | None, country: str) -> None:
    """Verify the signature, expiry and structure of the trust list (exit 1 when it fails)."""
    cfg = load_country(country)
    try:
        result = trustlist.verify(path or cfg.trust_list, cfg.certs.ca_cert)
    except trustlist.TrustListError as exc:
        fail(str(exc), code=1)
    click.echo(f"valid: #{result.sequence}, {len(result.countries)} countries, expires {result.expires_at:%Y-%m-%d}")


@trust_list.command("accept")
@country_option
@friendly_errors
def trust_list_accept(country: str) -> None:
    """Record the list in place as the country's highest accepted one, even when it is older.

    For a central list that was lost and signed again from a lower sequence: instances refuse an older
    list than the one they recorded; after this command they take the list in place at their next start.
    """
    cfg = load_country(country)
    try:
        result = trustlist.verify(cfg.trust_list, cfg.certs.ca_cert)
    except trustlist.TrustListError as exc:
        fail(str(exc), code=1)
    state = SequenceState.for_data_dir(cfg.data_dir)
    state.reset(result.sequence)
    record_admin(cfg, "trust-list.accept", action="U", sequence=result.sequence)
    click.echo(f"{cfg.code}: trust list #{result.sequence} accepted ({state.path}); restart the instances to use it")


@trust_list.command("show")
@click.option("--path", type=click.Path(path_type=Path))
@country_option
@friendly_errors
def trust_list_show(path: Path | None, country: str) -> None:
    """Print the verified trust list as JSON."""
    cfg = load_country(country)
    result = trustlist.verify(path or cfg.trust_list, cfg.certs.ca_cert)
    out = {
        "sequence": result.sequence,
        "issued_at": result.issued_at.isoformat(),
        "expires_at": result.expires_at.isoformat(),
        "countries": [
            {**c.public_summary(), "ncp_url": c.ncp_url, "tls_fingerprints": sorted(c.tls_fingerprints),
             "signing_keys": sorted(c.signing_keys)}
            for c in result.countries.values()
        ],
    }
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))


# --- database ------------------------------------------------------------------------------------


@main.command("init-db")
@country_option
@friendly_errors
def init_db(country: str) -> None:
    """Create or upgrade the country's database."""
    cfg = load_country(country)
    store = storage.open_store(cfg.database, check=True)
    sealed = seal_plaintext_totp_secrets(store.users, cfg)
    record_admin(cfg, "init-db", store, action="U", schema_version=store.schema_version(),
                 **({"totp_secrets_sealed": sealed} if sealed else {}))
    click.echo(f"{storage.describe(cfg.database)}: schema version {store.schema_version()}")
    store.close()


@main.command("import")
@country_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@friendly_errors
def import_documents(country: str, paths: tuple[Path, ...]) -> None:
    """Import IPS documents (JSON files, folders, NDJSON) or CI-SIS CDA medical summaries (XML) into the
    national record store.

    Each document is validated (FHIR R4 + IPS rules + this country's identifier); an invalid one is
    rejected whole with every problem listed by JSON path (XPath for CDA). A CDA document is converted
    to an IPS and stored with the CDA as its original; the entries kept in the narrative only are listed.
    Exit 1 when any document was rejected.
    """
    cfg = load_country(country)
    total = count_documents(p for p in paths if p.exists())
    store = storage.open_store(cfg.database, check=True)
    try:
        with click.progressbar(length=total, label="Importing", file=sys.stderr) as bar:
            report = import_paths(store, cfg, paths, progress=bar.update)
        record_admin(cfg, "import", store, action="C", imported=report.imported, updated=report.updated,
                     unchanged=report.unchanged, rejected=len(report.rejected))
    finally:
        store.close()
    for where, made, notes in report.converted:
        click.echo(f"converted {where} ({made})")
        for path, message in notes:
            click.echo(f"  {path}: {message}")
    for where, problems in report.rejected:
        click.echo(f"rejected {where}", err=True)
        for path, message in problems:
            click.echo(f"  {path}: {message}", err=True)
    click.echo(report.summary_line())
    sys.exit(1 if report.rejected else 0)


@main.command("seed")
@country_option
@click.option("--patients", "count", default=100, show_default=True, help="How many synthetic patients.")
@click.option("--seed", default=42, show_default=True, help="Same seed, same patients.")
@click.option("--processes", type=int, help="Generator processes (default: one per core).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has patients (first start).")
@click.option("--size", type=click.Choice(["small", "typical", "large"]),
              help="Summary size (about 10, 50 or 180 entries); default: a realistic mix.")
@click.option("--start", default=0, show_default=True, help="First patient index (to grow a population).")
@click.option("--format", "fmt", type=click.Choice(["fhir", "cda"]), default="fhir", show_default=True,
              help="cda (France): the summaries written as IPS-FR CDA documents and imported as such.")
@friendly_errors
def seed(country: str, count: int, seed: int, processes: int | None, if_empty: bool, size: str | None,
         start: int, fmt: str) -> None:
    """Generate a deterministic synthetic population with clinically plausible summaries."""
    cfg = load_country(country)
    if fmt == "cda" and cfg.code != "FR":
        fail(f"--format cda: CDA documents are the French national format, not {cfg.code}'s")
    store = storage.open_store(cfg.database, check=True)
    if if_empty and (existing := store.records.count_patients()):
        store.close()
        click.echo(f"{cfg.code}: {existing} patients already stored, nothing seeded")
        return
    started = time.perf_counter()
    try:
        with click.progressbar(length=count, label=f"Seeding {cfg.code}", file=sys.stderr) as bar:
            counts = seed_population(store, cfg, count, seed, progress=bar.update, processes=processes,
                                     size=size, start=start, fmt=fmt)
        record_admin(cfg, "seed", store, action="C", seed=seed, **counts)
    finally:
        store.close()
    elapsed = time.perf_counter() - started
    click.echo(f"imported {counts['imported']}, updated {counts['updated']}, unchanged {counts['unchanged']} "
               f"in {elapsed:.1f}s ({count / elapsed if elapsed else 0:.0f} patients/s)")


@main.command("consent")
@country_option
@click.option("--patient", "identifier", required=True, help="National identifier of the patient.")
@click.argument("setting", type=click.Choice(["allowed", "opposed"]))
@friendly_errors
def consent(country: str, identifier: str, setting: str) -> None:
    """Set a patient's cross-border access setting (allowed by default, or opposed)."""
    cfg = load_country(country)
    store = storage.open_store(cfg.database, check=True)
    try:
        value = validate_identifier(cfg.identifier.scheme, identifier)
        patient = store.records.find_by_identifier(cfg.identifier.system, value)
        if patient is None:
            fail(f"no patient with {cfg.identifier.label} {value}", code=1)
        store.records.set_consent(patient.id, setting, audit=consent_draft(cfg.code, patient.id, setting))
    finally:
        store.close()
    click.echo(f"cross-border access for patient {patient.id}: {setting}")


@main.command("patients")
@country_option
@click.option("--limit", type=click.IntRange(1, 10_000), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@friendly_errors
def patients(country: str, limit: int, offset: int, fmt: str) -> None:
    """List patients of the country's store with their identity traits (whom a foreign clinician can search
    for in a demo); recorded in the audit trail as an administrative read."""
    cfg = load_country(country)
    if not storage.exists(cfg.database):
        fail(f"{storage.describe(cfg.database)}: no database yet (create it with 'ncpeh seed' or 'ncpeh import')", code=1)
    store = storage.open_store(cfg.database, check=True)
    try:
        found = store.records.list_patients(limit, offset)
        record_admin(cfg, "patients.list", store, action="R", limit=limit, offset=offset, listed=len(found))
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps([asdict(p) for p in found], ensure_ascii=False, indent=2))
        return
    click.echo(f"{cfg.identifier.label:<18} {'family':<16} {'given':<28} {'birthdate':<10} {'sex':<7} {'birthplace':<10} consent")
    for p in found:
        click.echo(f"{p.identifier_value:<18} {p.family:<16} {p.given:<28} {p.birthdate:<10} {p.gender:<7} "
                   f"{p.birthplace or '-':<10} {p.consent}")


# --- serving -------------------------------------------------------------------------------------


@main.command("serve")
@country_option
@click.option("--listener", type=click.Choice(["public", "ncp", "both"]), required=True,
              help="public: portal, partner API, status; ncp: the NCPeH-to-NCPeH mutual-TLS API; both: the two, "
                   "as two supervised gunicorn processes that stop together (containers).")
@click.option("--demo-patients", default=0, show_default=True,
              help="After the start-up checks: create the database, seed this many synthetic patients when it has "
                   "none, and a demo partner client (<data_dir>/partner-client.json) when there is none.")
@friendly_errors
def serve(country: str, listener: str, demo_patients: int) -> None:
    """Serve one listener (or both) of one country with gunicorn."""
    cfg = load_country(country)
    if listener == "both" or demo_patients:
        preflight(cfg, list(LISTENERS) if listener == "both" else [listener])
    if demo_patients:

        for line in prepare_country(cfg, demo_patients, seed=42):
            click.echo(line, err=True)
    if listener == "both":
        sys.exit(supervise(cfg))
    run(cfg, listener)


@main.command("healthcheck")
@country_option
@click.option("--listener", type=click.Choice(["public", "ncp", "both"]), default="public", show_default=True)
@click.option("--timeout", default=5.0, show_default=True)
@friendly_errors
def healthcheck(country: str, listener: str, timeout: float) -> None:
    """Exit 0 when the listener's /_status answers ok or warning (for container healthchecks)."""
    cfg = load_country(country)
    healthy = True
    for name in ("public", "ncp") if listener == "both" else (listener,):
        where = cfg.ncp if name == "ncp" else cfg.public
        host = "127.0.0.1" if where.host in ("0.0.0.0", "::", "") else where.host  # noqa: S104 - wildcard bind
        url = f"https://{host}:{where.port}/_status"
        # ncp: our client certificate, its key opened with NCPEH_KEY_PASSWORD; no proxy from the environment
        ctx = client_context(cfg) if name == "ncp" else ssl.create_default_context(cafile=str(cfg.certs.ca_cert))
        conn = http.client.HTTPSConnection(host, where.port, context=ctx, timeout=timeout)
        try:
            conn.request("GET", "/_status", headers={"Accept": "application/json"})
            status = json.loads(conn.getresponse().read()).get("status")
        except (OSError, ValueError, http.client.HTTPException) as exc:
            fail(f"{url}: {exc.__class__.__name__}", code=1)
        finally:
            conn.close()
        click.echo(f"{url}: {status}")
        healthy = healthy and status in ("ok", "warning")
    sys.exit(0 if healthy else 1)


@main.command("demo")
@click.option("--countries", default="FR,DE", show_default=True, help="Comma-separated country codes.")
@click.option("--home", type=click.Path(path_type=Path), default=Path("var/demo"), show_default=True,
              help="Folder for certificates, trust list and databases.")
@click.option("--base-port", default=8443, show_default=True,
              help="First port: country i gets public base-port+i and NCPeH base-port+100+i.")
@click.option("--patients", default=20, show_default=True, help="Synthetic patients per country (when empty).")
@click.option("--database", type=click.Choice(["sqlite", "postgresql"]), default="sqlite", show_default=True,
              help="postgresql: a throwaway PostgreSQL cluster in <home>/postgresql (Debian's binaries).")
@click.option("--replicas", default=1, show_default=True, type=click.IntRange(1, 8),
              help="Replicas per country (above 1: --database postgresql), behind HAProxy on the listed ports.")
@friendly_errors
def demo(countries: str, home: Path, base_port: int, patients: int, database: str, replicas: int) -> None:
    """Start several countries as local processes, with certificates, trust list and demo data."""
    run_demo(parse_countries(countries), home.resolve(), base_port, patients, config_dir(), database, replicas)


for group in (audit, clients, terminology_group, users, conformance):
    main.add_command(group)

if __name__ == "__main__":
    main()
