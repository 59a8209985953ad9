"""Signing a package as the WACZ signing spec says (webrecorder's wacz-auth-spec): the
SHA-256 of `datapackage.json` in `datapackage-digest.json`, and beside it `signedData`, an
ECDSA P-256 signature (SHA-256, DER, base64) over that hash's text, as authsign makes it.

The signer is a key the user names (`--signing-key`, PEM; with `--signing-cert`, its
certificate chain, and the signature is by a domain, as authsign's domain signing), or a
key made for this package alone (`publicKey` in the signature: anonymous signing, which
proves the package is whole since it was signed, not who signed it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError

DIGEST_MEMBER = "datapackage-digest.json"
DATAPACKAGE_MEMBER = "datapackage.json"


class SigningError(ArchiveError):
    """The signing key or certificate cannot be used."""


@dataclass(frozen=True)
class Signer:
    private_key: Any
    """An EC P-256 private key (cryptography)."""
    certificate_chain: str | None = None
    """PEM, the signer's certificate first: signing as a domain."""

    @property
    def public_key_b64(self) -> str:
        from cryptography.hazmat.primitives import serialization

        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the public key (DER): how a recipient names the key to trust."""
        return hashlib.sha256(base64.b64decode(self.public_key_b64)).hexdigest()


def anonymous_signer() -> Signer:
    from cryptography.hazmat.primitives.asymmetric import ec

    return Signer(ec.generate_private_key(ec.SECP256R1()))


def load_signer(key_path: Path, cert_path: Path | None = None) -> Signer:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise SigningError(f"cannot read the signing key {key_path}: {error}") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SigningError(f"{key_path}: the signing key must be an EC P-256 key")
    chain = None
    if cert_path is not None:
        try:
            chain = Path(cert_path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise SigningError(f"cannot read the certificate {cert_path}: {error}") from error
        certificate = _chain(chain)[0]
        if certificate.public_key().public_numbers() != key.public_key().public_numbers():
            raise SigningError(f"{cert_path} is not the certificate of {key_path}")
    return Signer(key, chain)


def _chain(pem: str) -> list[Any]:
    from cryptography import x509

    try:
        certificates = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except ValueError as error:
        raise SigningError(f"not a PEM certificate chain: {error}") from error
    return certificates


def _domain(certificate: Any) -> str:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        return str(names[0].value)
    try:
        alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ""
    domains = alternative.value.get_values_for_type(x509.DNSName)
    return domains[0] if domains else ""


def signed_digest(datapackage: bytes, created: str, signer: Signer, software: str) -> str:
    """The text of datapackage-digest.json for these datapackage.json bytes."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    digest = "sha256:" + hashlib.sha256(datapackage).hexdigest()
    signature = signer.private_key.sign(digest.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    signed: dict[str, Any] = {
        "hash": digest,
        "created": created,
        "software": software,
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    if signer.certificate_chain is not None:
        signed["domain"] = _domain(_chain(signer.certificate_chain)[0])
        signed["domainCert"] = signer.certificate_chain
    else:
        signed["publicKey"] = signer.public_key_b64
    return json.dumps({"path": DATAPACKAGE_MEMBER, "hash": digest, "signedData": signed}, indent=2)


@dataclass(frozen=True)
class SignatureCheck:
    problems: list[str]
    signer: str
    """Who signed, in words: the domain, or the public key's fingerprint."""
    fingerprint: str | None


def check_signature(
    digest_text: bytes, datapackage: bytes, trusted_key: Any | None = None
) -> SignatureCheck:
    """The digest file's hash against datapackage.json and its signature against its key
    (and against `trusted_key`, a public key the recipient holds, when given)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    problems: list[str] = []
    try:
        digest = json.loads(digest_text)
        signed = digest.get("signedData") or {}
        expected = "sha256:" + hashlib.sha256(datapackage).hexdigest()
    except (ValueError, AttributeError):
        return SignatureCheck([f"{DIGEST_MEMBER} is not JSON"], "nobody", None)
    if digest.get("hash") != expected:
        problems.append(f"{DATAPACKAGE_MEMBER} does not match its digest in {DIGEST_MEMBER}")
    if not signed:
        return SignatureCheck([*problems, "the package is not signed"], "nobody", None)
    if signed.get("hash") != digest.get("hash"):
        problems.append("the signature is over another hash than the package's")
    try:
        if signed.get("domainCert"):
            chain = _chain(signed["domainCert"])
            for certificate, issuer in zip(chain, chain[1:], strict=False):
                certificate.verify_directly_issued_by(issuer)
            public_key = chain[0].public_key()
            who = f"domain {signed.get('domain') or _domain(chain[0])}"
        else:
            public_key = serialization.load_der_public_key(base64.b64decode(signed["publicKey"]))
            who = "an anonymous key"
        der = public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        fingerprint = hashlib.sha256(der).hexdigest()
        public_key.verify(
            base64.b64decode(signed["signature"]),
            str(signed["hash"]).encode("ascii"),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        return SignatureCheck([*problems, "the package's signature does not hold"], "?", None)
    except (KeyError, ValueError, TypeError, SigningError) as error:
        problems.append(f"the package's signature cannot be read ({type(error).__name__})")
        return SignatureCheck(problems, "?", None)
    if trusted_key is not None:
        trusted = trusted_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if trusted != der:
            problems.append(
                f"the package is signed by another key than the one trusted (key {fingerprint})"
            )
    return SignatureCheck(problems, f"{who} (key {fingerprint})", fingerprint)


def load_public_key(path: Path) -> Any:
    """A recipient's trusted key: a PEM public key, or the certificate holding it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    data = Path(path).read_bytes()
    try:
        if b"CERTIFICATE" in data:
            return x509.load_pem_x509_certificate(data).public_key()
        return serialization.load_pem_public_key(data)
    except ValueError as error:
        raise SigningError(f"{path}: not a PEM public key or certificate") from error


def seal_package(path: Path, members: dict[str, bytes], signer: Signer, software: str) -> None:
    """Add `members` to the WACZ at `path`, each listed with its SHA-256 in datapackage.json,
    then sign the new datapackage.json. The file is rewritten beside itself and moved in."""
    import os
    import shutil
    import zipfile

    sealed = path.with_name(path.name + ".sealing")
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(sealed, "w") as target:
            datapackage = json.loads(source.read(DATAPACKAGE_MEMBER))
            for info in source.infolist():
                if info.filename in (DATAPACKAGE_MEMBER, DIGEST_MEMBER, *members):
                    continue
                with source.open(info) as stream, target.open(info, "w") as out:
                    shutil.copyfileobj(stream, out, 1 << 20)
            resources = [
                resource
                for resource in datapackage.get("resources", [])
                if resource.get("path") not in members
            ]
            for name, data in members.items():
                target.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
                resources.append(
                    {
                        "name": Path(name).name,
                        "path": name,
                        "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
                        "bytes": len(data),
                    }
                )
            datapackage["resources"] = resources
            encoded = json.dumps(datapackage, indent=2).encode("utf-8")
            target.writestr(DATAPACKAGE_MEMBER, encoded, compress_type=zipfile.ZIP_DEFLATED)
            digest = signed_digest(encoded, str(datapackage.get("created", "")), signer, software)
            target.writestr(DIGEST_MEMBER, digest, compress_type=zipfile.ZIP_DEFLATED)
        os.replace(sealed, path)
    finally:
        sealed.unlink(missing_ok=True)
