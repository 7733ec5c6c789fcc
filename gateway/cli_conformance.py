"""``ncpeh conformance``: the conformance kit's command (see :mod:`gateway.conformance`).

Registered on the ``ncpeh`` command by :mod:`gateway.cli`; its error line comes from :mod:`gateway.cli_common`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gateway.cli_common import fail
from gateway.conformance import report, runner
from gateway.conformance.catalogue import markdown_table
from gateway.conformance.client import TRAITS, KitInputError, Settings, check_materials, origin, parse_target
from gateway.conformance.kit import Kit
from gateway.security.pki import PKIError
from gateway.security.trustlist import TrustListError, verify

_path = click.Path(dir_okay=False, path_type=Path)


def _traits(values: tuple[str, ...], option: str) -> dict[str, str]:
    traits: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        name = name.strip().lower()
        if not sep or name not in TRAITS or not text.strip():
            raise KitInputError(f"{option} {value!r}: give TRAIT=VALUE with TRAIT one of {', '.join(TRAITS)}")
        traits[name] = text.strip()
    return traits


def _settings(target: str, client_cert: Path, client_key: Path, ca: Path, signing_key: Path, country: str,
              issuer: str | None, trust_list: Path | None, audience: str | None, search_mask: str | None,
              patient: dict[str, str], opposed: dict[str, str], calls: int, timeout: float,
              key_password: str | None) -> Settings:
    """Resolve the issuer and the target's search mask (trust list, --search-mask, or the --patient traits)."""
    parse_target(target)
    check_materials(ca, client_cert, client_key, key_password)
    audience = audience or origin(target)
    mask: tuple[str, ...] | None = None
    mask_source = ""
    if trust_list is not None:
        listed = verify(trust_list, ca)
        sender = listed.country(country)
        if sender is None:
            raise KitInputError(f"{trust_list}: the trust list does not name --country {country}")
        issuer = issuer or sender.ncp_url
        entry = next((c for c in listed.countries.values() if c.ncp_url.rstrip("/") == audience.rstrip("/")), None)
        if entry is not None:
            mask, mask_source = entry.search_mask, f"published for {entry.code} in the trust list"
    if search_mask:
        mask = tuple(t.strip() for t in search_mask.split(",") if t.strip())
        unknown = [t for t in mask if t not in TRAITS]
        if unknown:
            raise KitInputError(f"--search-mask: unknown trait(s) {', '.join(unknown)}; known: {', '.join(TRAITS)}")
        mask_source = "--search-mask"
    if mask is None:
        mask, mask_source = tuple(patient), "taken from the --patient traits"
    if not issuer:
        raise KitInputError("give --trust-list (the issuer is --country's NCPeH URL in it) or --issuer URL")
    return Settings(target=target.rstrip("/"), client_cert=client_cert, client_key=client_key, ca=ca,
                    signing_key=signing_key, country=country.upper(), issuer=issuer, audience=audience,
                    search_mask=mask, mask_source=mask_source, patient=patient, opposed_patient=opposed,
                    calls=calls, timeout=timeout, key_password=key_password)


@click.command("conformance")
@click.option("--target", help="Base of the NCPeH-to-NCPeH API to test: https://HOST:PORT/fhir.")
@click.option("--client-cert", type=_path, help="The kit's TLS client certificate (PEM), as a foreign NCPeH's.")
@click.option("--client-key", type=_path, help="Its private key (PEM).")
@click.option("--ca", type=_path, help="CA certificate the target's server certificate is checked against.")
@click.option("--key-password", envvar="NCPEH_KEY_PASSWORD", help="Password of the client and signing keys, when "
              "encrypted (default: $NCPEH_KEY_PASSWORD).")
@click.option("--signing-key", type=_path, help="Assertion-signing key (EC P-256 PEM) of --country, listed in the "
                                                "target's trust list.")
@click.option("--country", help="Code of the NCPeH the kit acts as (e.g. DE).")
@click.option("--trust-list", type=_path, help="Signed trust list (verified with --ca): gives the issuer of the "
                                               "assertions (--country's NCPeH URL) and the target's search mask.")
@click.option("--issuer", help="'iss' of the assertions (default: --country's NCPeH URL in --trust-list).")
@click.option("--audience", help="'aud' of the assertions (default: the target's https://HOST:PORT).")
@click.option("--search-mask", help="Traits the target requires, comma-separated (default: from --trust-list, "
                                    "else the --patient traits).")
@click.option("--patient", "patient", multiple=True, metavar="TRAIT=VALUE",
              help="A patient of the target, one trait per option (identifier=SYSTEM|VALUE, family, given, birthdate, "
                   "gender, birthplace). Without it, the checks that need a patient are skipped.")
@click.option("--opposed-patient", "opposed", multiple=True, metavar="TRAIT=VALUE",
              help="A patient who opposed cross-border access, same form (for CONSENT-REFUSED and ID-SEVERAL).")
@click.option("--calls", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="$summary calls timed for PERF-SUMMARY-P50.")
@click.option("--timeout", type=click.FloatRange(0.5, 120), default=10.0, show_default=True,
              help="Seconds per call.")
@click.option("--only", multiple=True, metavar="ID", help="Run only these checks (repeatable).")
@click.option("--junit", type=_path, help="Write a JUnit XML report here.")
@click.option("--html", "html_path", type=_path, help="Write a self-contained HTML report here.")
@click.option("--list", "list_only", is_flag=True, help="Print the catalogue (Markdown) and exit.")
def conformance(target: str | None, client_cert: Path | None, client_key: Path | None, ca: Path | None,
                key_password: str | None, signing_key: Path | None, country: str | None, trust_list: Path | None,
                issuer: str | None, audience: str | None, search_mask: str | None, patient: tuple[str, ...],
                opposed: tuple[str, ...], calls: int, timeout: float, only: tuple[str, ...], junit: Path | None,
                html_path: Path | None, list_only: bool) -> None:
    """Test another NCPeH's NCPeH-to-NCPeH API, acting as the foreign NCPeH --country.

    Exit status: 0 when no error-level check failed, 1 when one did, 2 on bad input or a target that
    cannot be tested (unreachable, not an NCPeH). Checks that cannot run are skipped with the reason.
    """
    if list_only:
        click.echo(markdown_table(runner.checks()), nl=False)
        return
    needed = {"--target": target, "--client-cert": client_cert, "--client-key": client_key, "--ca": ca,
              "--signing-key": signing_key, "--country": country}
    missing = [name for name, value in needed.items() if not value]
    if missing:
        fail(f"missing option(s): {', '.join(missing)} (see ncpeh conformance --help)")
    unknown = [i for i in only if i not in {c.id for c in runner.checks()}]
    if unknown:
        fail(f"--only: unknown check id(s) {', '.join(unknown)} (see ncpeh conformance --list)")
    assert target and client_cert and client_key and ca and signing_key and country
    try:
        settings = _settings(target, client_cert, client_key, ca, signing_key, country, issuer, trust_list, audience,
                             search_mask, _traits(patient, "--patient"), _traits(opposed, "--opposed-patient"),
                             calls, timeout, key_password)
        kit = Kit(settings)
        runner.preflight(kit)
        click.echo(f"target {settings.target} as {settings.country} (iss {settings.issuer}, aud {settings.audience}); "
                   f"search mask {', '.join(settings.search_mask) or 'unknown'} ({settings.mask_source})")
        outcomes = runner.run(kit, only)
    except (KitInputError, PKIError, TrustListError) as exc:
        fail(str(exc))
        return
    for line in report.console_lines(outcomes):
        click.echo(line)
    verdict = "NOT CONFORMANT: an error-level check failed" if runner.failed(outcomes) else \
        "CONFORMANT: no error-level check failed"
    click.echo(verdict)
    try:
        if junit:
            report.write(junit, report.junit_xml(outcomes, settings.target))
        if html_path:
            report.write(html_path, report.html_report(outcomes, settings.target, verdict))
    except OSError as exc:
        fail(f"cannot write the report: {exc.filename}: {exc.strerror}")
    sys.exit(1 if runner.failed(outcomes) else 0)
