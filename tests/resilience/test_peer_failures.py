"""A failing foreign NCPeH gives a clear, timely error and never blocks other requests.

The foreign side is a real, misbehaving HTTPS server on 127.0.0.1 holding FR's real certificate (so
that the channel passes the trust-list pinning) or, for the TLS case, a certificate that is not.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import Running, make_topology
from tests.standin import reply, standing_in

CONNECT_TIMEOUT, READ_TIMEOUT = 1.0, 2.0
BUDGET = CONNECT_TIMEOUT + READ_TIMEOUT
TRAITS = {"country": "FR", "identifier": "284057505612387", "family": "Dupont", "given": "Marie",
          "birthdate": "1984-05-12", "gender": "female"}


def misbehaving(request, mode: str) -> None:
    """FR's NCPeH answering as the test switches between cases: 'ok', 'slow', 'trickle', '5xx', 'garbage',
    'reset'."""
    if mode == "slow":
        time.sleep(READ_TIMEOUT * 3)
    if mode == "reset":
        request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        request.connection.shutdown(socket.SHUT_RDWR)  # RST: the connection drops without an answer
        request.close_connection = True
        return
    if mode == "trickle":
        request.send_response(200)
        request.send_header("Content-Type", "application/fhir+json")
        request.send_header("Content-Length", "1000")
        request.end_headers()
        for _ in range(20):
            request.wfile.write(b" ")
            request.wfile.flush()
            time.sleep(0.5)
        return
    status, body = {"5xx": (500, b"oops"), "garbage": (200, b"<html>not json")}.get(
        mode, (200, b'{"resourceType": "Bundle", "type": "searchset", "entry": []}'))
    reply(request, status, body)


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "impostor")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "imp.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "imp.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return str(tmp_path / "imp.crt"), str(tmp_path / "imp.key")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("failing-peer")
    topo = make_topology(home, ["FR", "DE"])
    topo.env = {**topo.env, "NCPEH_PEER_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
                "NCPEH_PEER_READ_TIMEOUT": str(READ_TIMEOUT), "NCPEH_THREADS": "8"}
    topo.prepare()
    with standing_in(topo, misbehaving, "ok") as (running, peer):
        yield running, peer, home


def query(running: Running) -> tuple[requests.Response, float]:
    session = running.partner_session("DE")
    started = time.monotonic()
    resp = session.get(running.public("DE") + "/fhir/Patient", params=TRAITS, timeout=30)
    return resp, time.monotonic() - started


def code_of(resp: requests.Response) -> str:
    body = resp.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["details"]["coding"][0]["code"]


@pytest.mark.parametrize("mode, status, code", [
    ("slow", 504, "PEER_TIMEOUT"),
    ("trickle", 504, "PEER_TIMEOUT"),
    ("5xx", 502, "PEER_UNAVAILABLE"),
    ("garbage", 502, "PEER_BAD_ANSWER"),
    ("reset", 502, None),
])
def test_misbehaving_peer_gives_clear_error_within_the_time_out(world, mode, status, code):
    running, peer, _ = world
    peer.mode = mode
    resp, elapsed = query(running)
    peer.mode = "ok"
    assert resp.status_code == status, resp.text
    got = code_of(resp)
    if code:
        assert got == code
    assert elapsed < BUDGET + 1.5, f"{mode} took {elapsed:.1f}s"
    # a healthy answer resets the breaker for the next case
    assert query(running)[0].status_code == 200


def test_peer_down(world):
    running, peer, _ = world
    peer.stop()
    try:
        resp, elapsed = query(running)
        assert resp.status_code == 502 and code_of(resp) == "PEER_UNREACHABLE"
        assert elapsed < BUDGET + 1.5
    finally:
        peer.start()
    assert query(running)[0].status_code == 200


def test_tls_handshake_failure_with_untrusted_certificate(world, tmp_path):
    running, peer, _ = world
    peer.stop()
    peer.start(*self_signed(tmp_path))
    try:
        resp, _ = query(running)
        assert resp.status_code == 502 and code_of(resp) == "PEER_TLS_FAILURE"
    finally:
        peer.stop()
        peer.start()
    assert query(running)[0].status_code == 200


def test_slow_peer_does_not_block_other_requests(world):
    running, peer, _ = world
    peer.mode = "slow"
    try:
        with ThreadPoolExecutor(4) as pool:
            slow = [pool.submit(query, running) for _ in range(3)]
            time.sleep(0.5)
            started = time.monotonic()
            other = requests.get(running.public("DE") + "/_status", verify=running.ca(), timeout=10)
            assert other.status_code == 200
            assert time.monotonic() - started < 1.0
            assert all(f.result()[0].status_code == 504 for f in slow)
    finally:
        peer.mode = "ok"
    query(running)


def test_circuit_breaker_opens_then_recovers(world):
    running, peer, _ = world
    peer.mode = "5xx"
    codes = [code_of(query(running)[0]) for _ in range(6)]
    assert codes[-1] == "PEER_CIRCUIT_OPEN", codes
    resp, elapsed = query(running)
    assert code_of(resp) == "PEER_CIRCUIT_OPEN" and elapsed < 0.5
    assert int(resp.headers["Retry-After"]) >= 1
    peer.mode = "ok"


def wait_until_answered(running: Running, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while query(running)[0].status_code != 200:
        assert time.monotonic() < deadline, "France is still not answered"
        time.sleep(0.5)


class RawPeer:
    """A TCP server on the peer's port that never completes a TLS handshake: it stays silent, or it
    answers the ClientHello in plain HTTP (not a TLS server)."""

    def __init__(self, host: str, port: int, mode: str) -> None:
        self.mode, self.held = mode, []
        self.sock = socket.create_server((host, port))
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            if self.mode == "plaintext":
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                conn.close()
            else:
                self.held.append(conn)  # accepted, never a byte back

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.mark.parametrize("mode, status, code", [
    ("silent", 504, "PEER_TIMEOUT"),  # the handshake never completes: connect time-out
    ("plaintext", 502, "PEER_TLS_FAILURE"),  # not a TLS server
])
def test_tls_handshake_that_never_completes(world, mode, status, code):
    running, peer, _ = world
    fr = running.configs["FR"]
    wait_until_answered(running)  # a breaker left open by an earlier case would answer first
    peer.stop()
    raw = RawPeer(fr.ncp.host, fr.ncp.port, mode)
    try:
        resp, elapsed = query(running)
        assert resp.status_code == status, resp.text
        assert code_of(resp) == code
        assert elapsed < BUDGET + 1.5, f"{mode} took {elapsed:.1f}s"
    finally:
        raw.close()
        peer.start()
    assert query(running)[0].status_code == 200
