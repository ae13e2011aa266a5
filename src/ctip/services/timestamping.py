"""Trusted time from an RFC 3161 time-stamp authority: a real TSA over HTTP, or a local one.

``LocalTSA`` is OpenSSL's own TSA (``openssl ts -reply``) over a root CA and a TSA certificate
made at run time by ``init_local_tsa`` (keys 0600 under CTIP_HOME/tsa; nothing is ever shipped
or committed). It is for tests and the demo: a token from it proves only what its key holder
says. Production sets ``CTIP_TSA`` to a public TSA's URL and its certificates.
Its config lists no ``certs`` chain: OpenSSL would then emit a certificate SET that is not
DER-sorted, which ``rfc3161-client`` refuses (INVESTIGATIONS.md 3.2); ``-cert`` alone includes
the signer's certificate.

Every token is verified as it arrives (signature, chain, key usage, imprint and our nonce), so a
replayed or foreign response is refused at once.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ctip.errors import ConfigurationError, EvidenceError, Phrase, bounded
from ctip.evidence.timestamp import TokenError, TokenInfo, timestamp_request, verify_token
from ctip.settings import Settings
from ctip.storage.keys import write_secret

TSA_CONFIG = """\
[ tsa ]
default_tsa = ctip_local_tsa
[ ctip_local_tsa ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.2.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class Stamp:
    token: bytes  # the RFC 3161 response (DER), as ``openssl ts -verify -in`` reads it
    info: TokenInfo


class TimestampAuthority:
    """Base: ask for a token over a SHA-256 digest and verify it before returning it."""

    ca_pem: bytes
    cert_pem: bytes
    name: str | Phrase  # what a message calls it (a Phrase, translated on a page, or a URL)

    def _respond(self, request: bytes) -> bytes:
        raise NotImplementedError

    def stamp(self, digest: bytes) -> Stamp:
        nonce = secrets.randbits(63)
        response = self._respond(timestamp_request(digest, nonce))
        try:
            info = verify_token(response, digest, root_pem=self.ca_pem, tsa_pem=self.cert_pem,
                                nonce=nonce)
        except TokenError as error:
            raise EvidenceError("The time-stamp authority {tsa} gave a token that does not "
                                "verify: {error}.",
                                hint="check CTIP_TSA and the TSA certificates "
                                "(CTIP_TSA_CA_FILE, CTIP_TSA_CERT_FILE)",
                                params={"tsa": self.name, "error": str(error)}) from None
        return Stamp(response, info)


class LocalTSA(TimestampAuthority):
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = Phrase("local OpenSSL TSA ({folder})", params={"folder": str(folder)})
        openssl = shutil.which("openssl")
        if openssl is None:
            raise ConfigurationError("The local TSA needs the `openssl` program.",
                                     hint="install OpenSSL, or set CTIP_TSA to a TSA's URL")
        self.openssl = openssl
        try:
            self.ca_pem = (folder / "ca.pem").read_bytes()
            self.cert_pem = (folder / "tsa.pem").read_bytes()
        except FileNotFoundError:
            raise ConfigurationError("There is no local TSA in {folder}.",
                                     hint="run `ctip evidence setup --local-tsa`",
                                     params={"folder": str(folder)}) from None

    def _respond(self, request: bytes) -> bytes:
        with tempfile.TemporaryDirectory(prefix="ctip-tsa-") as work:
            query, reply = Path(work) / "q.tsq", Path(work) / "r.tsr"
            query.write_bytes(request)
            done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
                [self.openssl, "ts", "-reply", "-config", str(self.folder / "tsa.cnf"),
                 "-queryfile", str(query), "-out", str(reply)],
                capture_output=True, text=True, check=False)
            if done.returncode != 0 or not reply.exists():
                raise EvidenceError("The local TSA failed: {stderr}",
                                    hint="run `ctip evidence setup --local-tsa` again",
                                    params={"stderr": bounded(done.stderr.strip(), 300)})
            return reply.read_bytes()


class HttpTSA(TimestampAuthority):
    def __init__(self, url: str, ca_pem: bytes, cert_pem: bytes) -> None:
        self.url, self.ca_pem, self.cert_pem, self.name = url, ca_pem, cert_pem, url

    def _respond(self, request: bytes) -> bytes:
        req = urllib.request.Request(  # noqa: S310 - the scheme is checked in tsa_from_settings
            self.url, data=request, headers={"Content-Type": "application/timestamp-query"})
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:  # noqa: S310
                return bytes(answer.read())
        except OSError as error:
            raise EvidenceError("The time-stamp authority {url} did not answer: {error}.",
                                hint="check the network and CTIP_TSA; nothing was stored",
                                params={"url": self.url, "error": str(error)}) from None


def tsa_from_settings(settings: Settings) -> TimestampAuthority:
    """The configured TSA; a clear error if none is (evidence without trusted time is not
    accepted into the locker)."""
    if not settings.tsa:
        raise ConfigurationError(
            "No time-stamp authority is configured, so evidence cannot get trusted time.",
            hint="set CTIP_TSA to your TSA's https URL (with CTIP_TSA_CA_FILE and "
            "CTIP_TSA_CERT_FILE), or for tests and demos run `ctip evidence setup --local-tsa` "
            "and set CTIP_TSA=local")
    if settings.tsa == "local":
        return LocalTSA(settings.resolved_tsa_dir)
    if not settings.tsa.startswith(("https://", "http://")):
        raise ConfigurationError("CTIP_TSA={tsa} is neither a URL nor 'local'.",
                                 hint="set it to the TSA's https URL",
                                 params={"tsa": repr(settings.tsa)})
    try:
        ca = settings.resolved_tsa_ca_file.read_bytes()
        cert = settings.resolved_tsa_cert_file.read_bytes()
    except FileNotFoundError as error:
        raise ConfigurationError("A TSA certificate file is missing: {path}.",
                                 hint="set CTIP_TSA_CA_FILE and CTIP_TSA_CERT_FILE",
                                 params={"path": error.filename}) from None
    return HttpTSA(settings.tsa, ca, cert)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ctip local test TSA"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def init_local_tsa(folder: Path, *, days: int = 3650) -> list[str]:
    """A root CA and a TSA certificate (critical extendedKeyUsage timeStamping), made here and
    now with ``cryptography``; the OpenSSL TSA config beside them. Existing files are kept."""
    if (folder / "tsa.cnf").exists():
        return []
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("ctip local root CA"))
          .issuer_name(_name("ctip local root CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (x509.CertificateBuilder().subject_name(_name("ctip local TSA"))
           .issuer_name(ca.subject).public_key(tsa_key.public_key())
           .serial_number(x509.random_serial_number()).not_valid_before(now)
           .not_valid_after(now + timedelta(days=days))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                        False), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                          critical=True)
           .sign(ca_key, hashes.SHA256()))
    write_secret(folder / "tsa.key", _key_pem(tsa_key))
    # the CA key is not needed again: it is not kept, so no further TSA can be certified
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    write_secret(folder / "serial", "01\n")
    write_secret(folder / "tsa.cnf", TSA_CONFIG.format(dir=folder))
    os.chmod(folder, 0o700)
    return [f"local TSA {folder}"]
