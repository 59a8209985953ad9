"""Trusted timestamps (RFC 3161) of the ledger's tree heads: asking an authority for a
token over a head, and checking a token offline against its head and the CAs trusted.

A token says that the authority saw the head's message (its size and root,
archive.store.ledger_tree.head_message) at the token's time: everything under that root
existed by then, whoever controls the archive since. rfc3161-client (Trail of Bits) builds
the requests and checks the tokens; this module adds HTTP and the archive's wording.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.errors import ArchiveError

if TYPE_CHECKING:
    from archive.store.ledger_tree import HeadRow
    from archive.store.writer import ArchiveWriter

TSA_URL_ENV = "CHALCO_TSA_URL"
TSA_CA_ENV = "CHALCO_TSA_CA_BUNDLE"
DEFAULT_TIMEOUT = 10.0
# The message imprints a token may carry (OID -> hashlib name).
IMPRINT_ALGORITHMS = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
# An authority's answer is a few kilobytes; more is not an answer.
MAX_REPLY = 1 << 20


class TimestampUnavailable(ArchiveError):
    """The authority could not be reached, or did not grant a token."""


class TokenInvalid(ArchiveError):
    """A token does not hold: damaged, for another message, or not from a trusted CA (its
    message completes "the token ...")."""


@dataclass(frozen=True)
class TsaConfig:
    """Where to ask for tokens and whom to trust: `TSA_URL` and `TSA_CA_BUNDLE` (Scrapy
    settings of a crawl; $CHALCO_TSA_URL and $CHALCO_TSA_CA_BUNDLE for every verb)."""

    url: str
    ca_bundle: Path | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_values(
        cls, url: str | None, ca_bundle: str | os.PathLike[str] | None, timeout: float | None = None
    ) -> TsaConfig | None:
        """None when no authority is named (timestamps are off by default)."""
        url = url or os.environ.get(TSA_URL_ENV) or None
        if not url:
            return None
        bundle = ca_bundle or os.environ.get(TSA_CA_ENV) or None
        return cls(url, Path(bundle) if bundle else None, timeout or DEFAULT_TIMEOUT)


@dataclass(frozen=True)
class Token:
    der: bytes
    """The authority's TimeStampResp, DER, as received."""
    gen_time: datetime
    """When the authority says it saw the message (aware, UTC)."""


def load_roots(path: Path) -> list[Any]:
    """The CA certificates of a PEM bundle (TokenInvalid when there are none)."""
    from cryptography import x509

    try:
        roots = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as error:
        raise TokenInvalid(f"cannot read the CA bundle {path}: {error}") from error
    return roots


def request_token(config: TsaConfig, message: bytes) -> Token:
    """Ask the authority for a token over `message`; checked before it is kept."""
    import urllib.error  # here: urllib.request loads ssl and http, which verify never needs
    import urllib.request

    from rfc3161_client import TimestampRequestBuilder

    request = (
        TimestampRequestBuilder().data(message).nonce(nonce=True).cert_request(cert_request=True)
    ).build()
    http = urllib.request.Request(
        config.url,
        data=request.as_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(http, timeout=config.timeout) as reply:
            der = reply.read(MAX_REPLY + 1)
    except urllib.error.HTTPError as error:
        raise TimestampUnavailable(
            f"the authority {config.url} answered HTTP {error.code} ({error.reason})"
        ) from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise TimestampUnavailable(
            f"the authority {config.url} could not be reached: {reason}"
        ) from error
    if len(der) > MAX_REPLY:
        raise TimestampUnavailable(f"the authority {config.url} answered more than a token")
    try:
        gen_time = check_token(der, message, config.ca_bundle, nonce=request.nonce)
    except TokenInvalid as error:
        raise TimestampUnavailable(
            f"the authority {config.url} gave a token that {error}"
        ) from error
    return Token(der, gen_time)


def check_token(
    der: bytes, message: bytes, ca_bundle: Path | list[Any] | None, nonce: int | None = None
) -> datetime:
    """The time a token proves `message` existed by, offline. With a CA bundle (a path or
    certificates) the token's signature must chain to one of its CAs; without, only that
    it is a granted token over this message (TokenInvalid otherwise)."""
    from rfc3161_client import PKIStatus, VerificationError, VerifierBuilder
    from rfc3161_client import decode_timestamp_response as decode

    try:
        response = decode(der)
    except ValueError as error:
        raise TokenInvalid(f"is not a timestamp token ({error})") from error
    if PKIStatus(response.status) != PKIStatus.GRANTED:
        raise TokenInvalid(f"was refused by its authority ({', '.join(response.status_string)})")
    imprint = response.tst_info.message_imprint
    algorithm = IMPRINT_ALGORITHMS.get(imprint.hash_algorithm.dotted_string)
    if algorithm is None:
        raise TokenInvalid(f"is over an unknown hash ({imprint.hash_algorithm.dotted_string})")
    if imprint.message != hashlib.new(algorithm, message).digest():
        raise TokenInvalid("is for another hash than this head's")
    if nonce is not None and response.tst_info.nonce != nonce:
        raise TokenInvalid("answers another request (nonce)")
    if ca_bundle is not None:
        roots = load_roots(ca_bundle) if isinstance(ca_bundle, Path) else ca_bundle
        try:
            VerifierBuilder(roots=list(roots)).build().verify_message(response, message)
        except VerificationError as error:
            raise TokenInvalid(f"is not signed by a trusted authority ({error})") from error
    return response.tst_info.gen_time


@dataclass(frozen=True)
class StampOutcome:
    head: HeadRow
    timestamped_at: datetime | None
    note: str | None
    """Why the head has no token (the authority could not be reached), for the run's end."""


def timestamp_head(writer: ArchiveWriter, head: HeadRow, config: TsaConfig) -> datetime | None:
    """The time the head's token proves: its own token's, or that of one asked for now and
    kept with the head (TimestampUnavailable when the authority gives none)."""
    from archive.store.ledger_tree import head_message

    if head.token is not None:
        return head.timestamped_at
    token = request_token(config, head_message(head.tree_size, head.root_hash))
    writer.store_timestamp(head.id, token.der, token.gen_time, config.url)
    return token.gen_time


def stamp_newest_head(writer: ArchiveWriter, config: TsaConfig | None) -> StampOutcome:
    """Record the tree's head as it stands and, with an authority named, timestamp it.
    An authority out of reach leaves a note, never an error: the archive is whole without
    the token, and the next run's head (covering this one's entries) gets one."""
    head = writer.record_tree_head()
    if config is None:
        return StampOutcome(head, None, None)
    try:
        return StampOutcome(head, timestamp_head(writer, head, config), None)
    except TimestampUnavailable as error:
        return StampOutcome(
            head, None, f"tree head {head.id} (size {head.tree_size}) not timestamped: {error}"
        )
