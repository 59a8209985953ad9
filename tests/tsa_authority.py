"""A local RFC 3161 time-stamping authority over real HTTP, with a CA of its own: OpenSSL's
`openssl ts -reply` behind a small http.server handler, its certificates made with
`cryptography`. For tests and benchmarks: no network beyond the loopback address."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OPENSSL_CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class AuthorityFiles:
    ca_pem: Path
    """The CA certificate a verifier trusts (the `CA bundle`)."""
    tsa_pem: Path
    key_pem: Path


def make_authority(folder: Path, name: str = "Test TSA") -> AuthorityFiles:
    """A CA and a TSA certificate it signs (EKU timeStamping, critical), written to folder."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} Root CA"))
        .issuer_name(_name(f"{name} Root CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = AuthorityFiles(folder / "ca.pem", folder / "tsa.pem", folder / "tsa-key.pem")
    files.ca_pem.write_bytes(_pem(ca))
    files.tsa_pem.write_bytes(_pem(tsa))
    files.key_pem.write_bytes(
        tsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "openssl.cnf").write_text(OPENSSL_CONFIG.format(dir=folder), encoding="ascii")
    (folder / "serial").write_text("01\n", encoding="ascii")
    return files


def reply(folder: Path, files: AuthorityFiles, query: bytes) -> bytes:
    """A TimeStampResp (DER) for a TimeStampReq (DER), from `openssl ts -reply`."""
    with tempfile.TemporaryDirectory() as work:
        query_path, reply_path = Path(work) / "query.tsq", Path(work) / "reply.tsr"
        query_path.write_bytes(query)
        subprocess.run(
            [
                "openssl", "ts", "-reply", "-config", str(folder / "openssl.cnf"),
                "-queryfile", str(query_path), "-signer", str(files.tsa_pem),
                "-inkey", str(files.key_pem),
                "-out", str(reply_path),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return reply_path.read_bytes()


class TimeStampAuthority:
    """`with TimeStampAuthority(folder) as tsa:` serves RFC 3161 over HTTP at `tsa.url`;
    `tsa.ca_pem` is the CA to trust. `tsa.down = True` answers 503 (an authority that
    cannot be reached as a run meets it); `tsa.requests` counts the requests answered."""

    def __init__(self, folder: Path, name: str = "Test TSA"):
        self.folder = folder
        self.files = make_authority(folder, name)
        self.down = False
        self.requests = 0
        self._lock = threading.Lock()
        authority = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if authority.down:
                    self.send_error(503, "down for the test")
                    return
                with authority._lock:  # one serial file
                    body = reply(authority.folder, authority.files, query)
                    authority.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/tsr"

    @property
    def ca_pem(self) -> Path:
        return self.files.ca_pem

    def __enter__(self) -> TimeStampAuthority:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
