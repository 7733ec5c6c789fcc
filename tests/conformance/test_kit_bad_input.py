"""Bad input and targets the kit cannot test: one line on stderr (no traceback), exit status 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from gateway.conformance.client import throwaway_client
from gateway.security.pki import load_private_key
from tests.conformance.conftest import PATIENT, kit_command, pki_args
from tests.conftest import Running, free_ports
from tests.standin import StandIn, reply


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ncpeh: error: "), result.stderr
    assert "PASS" not in result.stdout and "FAIL" not in result.stdout
    return lines[0]


def test_unreachable_target(kit) -> None:
    port = free_ports(1)[0]
    line = one_line_error(kit(f"https://127.0.0.1:{port}/fhir"))
    assert line.startswith(f"ncpeh: error: cannot reach https://127.0.0.1:{port}/fhir: ") and "refused" in line


def test_the_public_listener_is_not_an_ncpeh_to_ncpeh_api(countries: Running, kit) -> None:
    line = one_line_error(kit(countries.public("FR") + "/fhir"))
    assert "refused a valid HCP assertion (401 OperationOutcome" in line and "not an NCPeH-to-NCPeH API" in line


def test_a_plain_https_server_is_not_an_ncpeh(countries: Running, kit) -> None:
    cfg = countries.configs["FR"]
    plain = StandIn("127.0.0.1", free_ports(1)[0], str(cfg.certs.server_cert), str(cfg.certs.server_key),
                    lambda request, mode: reply(request, 200, b"<html><body>It works</body></html>", "text/html"), "")
    plain.start()
    try:
        line = one_line_error(kit(f"https://127.0.0.1:{plain.port}/fhir"))
    finally:
        plain.stop()
    assert line == (f"ncpeh: error: https://127.0.0.1:{plain.port}/fhir is not an NCPeH-to-NCPeH FHIR API: "
                    "GET /Patient answered 200 text/html")


def test_a_server_certificate_from_another_ca(countries: Running, tmp_path: Path) -> None:
    """--ca that did not issue the target's certificate: the handshake fails, said in one line."""
    other_ca, _ = throwaway_client(tmp_path)
    args = pki_args(countries)
    args[args.index("--ca") + 1] = str(other_ca)
    args = args[:args.index("--trust-list")]  # the trust list is verified with --ca: give the issuer instead
    line = one_line_error(kit_command("--target", countries.ncp("FR") + "/fhir", *args, "--issuer", countries.ncp("DE")))
    assert "the TLS handshake with" in line and "CERTIFICATE_VERIFY_FAILED" in line


@pytest.mark.parametrize("option, content, expected", [
    ("--client-cert", None, "client certificate: {path}: cannot read certificate (No such file or directory)"),
    ("--client-cert", b"not a certificate", "client certificate: {path}: not a readable PEM certificate"),
    ("--client-key", b"not a key", "client key: {path}: not a readable PEM private key"),
    ("--signing-key", None, "signing key: {path}: cannot read private key (No such file or directory)"),
    ("--ca", b"-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n",
     "CA certificate: {path}: not a readable PEM certificate"),
])
def test_unreadable_certificates_and_keys(countries: Running, kit, tmp_path: Path, option: str, content: bytes | None,
                                          expected: str) -> None:
    path = tmp_path / "file.pem"
    if content is not None:
        path.write_bytes(content)
    args = pki_args(countries)
    args[args.index(option) + 1] = str(path)
    line = one_line_error(kit_command("--target", countries.ncp("FR") + "/fhir", *args))
    assert line == "ncpeh: error: " + expected.format(path=path)


def test_a_key_that_does_not_match_the_certificate(countries: Running) -> None:
    args = pki_args(countries)
    args[args.index("--client-key") + 1] = str(countries.configs["FR"].certs.client_key)
    line = one_line_error(kit_command("--target", countries.ncp("FR") + "/fhir", *args))
    assert "unusable client certificate or key" in line and "KEY_VALUES_MISMATCH" in line


@pytest.mark.parametrize("args, expected", [
    (["--patient", "shoe-size=42"], "--patient 'shoe-size=42': give TRAIT=VALUE with TRAIT one of identifier, family"),
    (["--only", "NO-SUCH-CHECK"], "--only: unknown check id(s) NO-SUCH-CHECK (see ncpeh conformance --list)"),
    (["--search-mask", "identifier,shoe"], "--search-mask: unknown trait(s) shoe; known: identifier"),
    (["--country", "XX"], "the trust list does not name --country XX"),
])
def test_bad_options(countries: Running, kit, args: list[str], expected: str) -> None:
    line = one_line_error(kit(countries.ncp("FR") + "/fhir", *args))
    assert expected in line


def test_no_target_or_http_target(countries: Running) -> None:
    line = one_line_error(kit_command(*pki_args(countries)))
    assert line == "ncpeh: error: missing option(s): --target (see ncpeh conformance --help)"
    line = one_line_error(kit_command("--target", "http://127.0.0.1:1/fhir", *pki_args(countries)))
    assert "give the NCPeH-to-NCPeH API's base as https://HOST:PORT/fhir" in line


def test_without_trust_list_the_issuer_is_needed(countries: Running) -> None:
    args = pki_args(countries)
    args = args[:args.index("--trust-list")]
    line = one_line_error(kit_command("--target", countries.ncp("FR") + "/fhir", *args, "--patient", PATIENT[1]))
    assert line == "ncpeh: error: give --trust-list (the issuer is --country's NCPeH URL in it) or --issuer URL"


def test_a_report_that_cannot_be_written(countries: Running, kit, tmp_path: Path) -> None:
    result = kit(countries.ncp("FR") + "/fhir", "--only", "TLS-HANDSHAKE", "--junit", str(tmp_path / "no" / "x.xml"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    expected = f"ncpeh: error: cannot write the report: {tmp_path / 'no' / 'x.xml'}: No such file or directory"
    assert result.stderr.strip() == expected


def test_an_encrypted_client_key_needs_its_password(countries: Running, tmp_path: Path) -> None:
    key = load_private_key(countries.configs["DE"].certs.client_key)
    encrypted = tmp_path / "client.key"
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(b"s3cret")))
    args = pki_args(countries)
    args[args.index("--client-key") + 1] = str(encrypted)
    target = ["--target", countries.ncp("FR") + "/fhir", "--only", "TLS-HANDSHAKE"]
    line = one_line_error(kit_command(*target, *args))
    assert line == f"ncpeh: error: client key: {encrypted}: the key is encrypted; set NCPEH_KEY_PASSWORD"
    line = one_line_error(kit_command(*target, *args, "--key-password", "wrong"))
    assert line == f"ncpeh: error: client key: {encrypted}: wrong key password or corrupt key"
    result = kit_command(*target, *args, "--key-password", "s3cret")  # the signing key stays unencrypted
    assert result.returncode == 0, result.stderr
    assert "PASS  TLS-HANDSHAKE" in result.stdout and "s3cret" not in result.stdout + result.stderr
