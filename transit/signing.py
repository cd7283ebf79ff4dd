"""The signed token of a transit accompanying document (TAD), printed there as a QR code.

A compact JWS (a JWT) signed with EdDSA (Ed25519), header ``{"alg": "EdDSA", "kid": ...}``, over short
claims, so that the QR code stays small enough to scan from a worn print:

    mrn  MRN                         dep  office of departure     dst  office of destination
    trn  offices of transit (list)   prn  principal's identifier  pla  plate of the means of transport
    sea  seals (list)                itm  number of items         gms  gross mass, kg, decimal string
    grn  guarantee reference         tlm  time limit, ISO date    iat  issue time, seconds since 1970

Keys: the PEM Ed25519 private keys in ``settings.TRANSIT_SIGNING_KEYS_DIR``, one file per key named
``<kid>.pem``. The key whose name sorts last signs; every key of the directory is published (``jwks()``,
served at ``/.well-known/jwks.json``), so documents signed before a rotation still verify. To rotate, add
a key named to sort after the others (e.g. ``2027-01.pem`` after ``2026-01.pem``): it signs from then on,
so give the posts the new JWK Set at once (a post with the old set refuses the new documents as of an
unknown kid), and keep the old files for as long as documents signed with them circulate.

The keys are loaded once and kept in the process; they are loaded again when a key file is added,
removed or replaced (the directory listing is compared at every use), so a rotation needs no restart.
When the directory holds no key, one is generated there (mode 0600) and a WARNING logged: a convenience
for development. Production provisions the keys, shares the directory between the web and worker
processes and backs it up (``.env.example``).

Verification is ``transit.verify.token_verify_with_keys``, the implementation the offline command uses.
"""

import copy
import datetime
import fcntl
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from transit.data import TransitData
from transit.verify import ALGORITHM, TokenInvalid, public_keys_from_jwks, token_verify_with_keys

__all__ = [
    "TokenInvalid",
    "claims_from_transit",
    "jwks",
    "token_invalid_message",
    "token_sign",
    "token_verify",
]

logger = logging.getLogger(__name__)

KEY_SUFFIX = ".pem"
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# For screens (the public verify page): the reasons of ``TokenInvalid``, translated.
TOKEN_INVALID_MESSAGES = {
    TokenInvalid.MALFORMED: _("This is not a transit document token, or it was read incompletely."),
    TokenInvalid.WRONG_ALGORITHM: _("This token is not signed the way the customs service signs."),
    TokenInvalid.UNKNOWN_KID: _("This token names a signing key the customs service does not publish."),
    TokenInvalid.BAD_SIGNATURE: _("The signature does not match the data: the token was altered or forged."),
}


def token_invalid_message(error: TokenInvalid) -> str:
    """A translated sentence for an officer or a carrier, saying why the token is not authentic."""
    return str(TOKEN_INVALID_MESSAGES.get(error.reason, TOKEN_INVALID_MESSAGES[TokenInvalid.MALFORMED]))


@dataclass(frozen=True)
class _Keyring:
    signing_kid: str
    signing_key: Ed25519PrivateKey
    public_keys: dict[str, Ed25519PublicKey]
    jwks: dict


_cache: dict[tuple, _Keyring] = {}
_cache_lock = threading.Lock()


def _directory() -> Path:
    return Path(settings.TRANSIT_SIGNING_KEYS_DIR)


def _scan(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """The key files of ``directory`` as (name, inode, modification time), by name; hidden and temporary
    files left out. Compared at every use (a few microseconds), so that a key added, removed or replaced
    is seen at once, in every process."""
    try:
        with os.scandir(directory) as entries:
            return tuple(
                sorted(
                    (entry.name, entry.inode(), entry.stat().st_mtime_ns)
                    for entry in entries
                    if entry.name.endswith(KEY_SUFFIX) and not entry.name.startswith(".")
                )
            )
    except FileNotFoundError:
        return ()


def _generate_key(directory: Path) -> None:
    """Write a new private key into an empty key directory (mode 0600), unless another process (a web or
    worker process starting at the same time) has just done so: they take turns on a lock file."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _scan(directory):
            return
        kid = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Written under a hidden name, then renamed: a reader never sees half a key.
        temporary = directory / f".{kid}{KEY_SUFFIX}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(descriptor, 0o600)
            os.write(descriptor, pem)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, directory / f"{kid}{KEY_SUFFIX}")
    logger.warning(
        "No transit signing key in %s: generated %s%s. Fine for development; in production provision the "
        "keys yourself, share the directory between web and worker, and back it up (see .env.example).",
        directory,
        kid,
        KEY_SUFFIX,
    )


def _public_jwk(kid: str, public_key: Ed25519PublicKey) -> dict:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": jwt.utils.base64url_encode(raw).decode("ascii"),
        "kid": kid,
        "use": "sig",
        "alg": ALGORITHM,
    }


def _load(directory: Path, files: tuple) -> _Keyring:
    private_keys = {}
    for name, _inode, _modified in files:
        path = directory / name
        kid = path.name.removesuffix(KEY_SUFFIX)
        if not _KID.match(kid):
            raise ImproperlyConfigured(
                f"Transit signing key {path}: name it <kid>.pem, the kid of 1 to 64 letters, digits, '.', "
                "'_' or '-'."
            )
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as error:
            raise ImproperlyConfigured(
                f"Transit signing key {path} is not an unencrypted PEM private key: {error}"
            ) from error
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured(f"Transit signing key {path} is not an Ed25519 key.")
        private_keys[kid] = key
    signing_kid = max(private_keys)
    public_keys = {kid: key.public_key() for kid, key in private_keys.items()}
    document = {"keys": [_public_jwk(kid, public_keys[kid]) for kid in sorted(public_keys)]}
    return _Keyring(signing_kid, private_keys[signing_kid], public_keys, document)


def _keyring() -> _Keyring:
    """The keys of the configured directory, read again only when its key files changed."""
    directory = _directory()
    files = _scan(directory)
    keyring = _cache.get((str(directory), files))
    if keyring is not None:
        return keyring
    with _cache_lock:
        if not files:
            _generate_key(directory)
            files = _scan(directory)
        keyring = _load(directory, files)
        # Only the current keys of each directory are kept (tests switch directories).
        for stale in [key for key in _cache if key[0] == str(directory)]:
            del _cache[stale]
        _cache[(str(directory), files)] = keyring
        return keyring


def token_sign(claims: dict) -> str:
    """The compact token over ``claims`` (JSON values; ``iat`` added as now when missing), signed with
    the newest key. ``claims_from_transit`` builds the claims of a movement."""
    keyring = _keyring()
    payload = dict(claims)
    payload.setdefault("iat", int(time.time()))
    # No "typ" header: every byte makes the QR code denser.
    return jwt.encode(
        payload, keyring.signing_key, algorithm=ALGORITHM, headers={"kid": keyring.signing_kid, "typ": None}
    )


def token_verify(token: str, *, jwks: dict | None = None) -> dict:
    """The claims of ``token`` when it is authentic, against this installation's keys or, given
    ``jwks``, the keys of that JWK Set. Raises ``TokenInvalid`` (``.reason``: bad signature, unknown kid,
    malformed, wrong algorithm; ``token_invalid_message`` translates it)."""
    keys = _keyring().public_keys if jwks is None else public_keys_from_jwks(jwks)
    return token_verify_with_keys(token, keys)


def jwks() -> dict:
    """The public keys, as the JWK Set published at /.well-known/jwks.json."""
    return copy.deepcopy(_keyring().jwks)


def _date_text(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def claims_from_transit(data: TransitData) -> dict:
    """The claims of the movement's token. ``data`` is a released movement: its MRN is given; ``issued_at``
    (aware) becomes ``iat``, or now when it is empty."""
    if not data.mrn:
        raise ValueError("A transit token is signed on release: the movement has no MRN yet.")
    if data.issued_at is not None and data.issued_at.tzinfo is None:
        raise ValueError("issued_at must be an aware datetime.")
    issued_at = int(data.issued_at.timestamp()) if data.issued_at else int(time.time())
    return {
        "mrn": data.mrn,
        "dep": data.departure_office,
        "dst": data.destination_office,
        "trn": list(data.transit_offices),
        "prn": data.principal.identification,
        "pla": data.transport_identity,
        "sea": list(data.seals),
        "itm": len(data.items),
        # Fixed-point text of the mass as recorded (never "1E+3", never a float).
        "gms": format(data.total_gross_mass, "f"),
        "grn": data.guarantee_reference,
        "tlm": _date_text(data.time_limit),
        "iat": issued_at,
    }
