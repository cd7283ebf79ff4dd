"""Check the signed token of a transit accompanying document offline, at a border post.

The QR code of a transit accompanying document holds a compact JWS (a JWT signed with EdDSA, Ed25519)
over the movement's MRN, offices, principal, plate, seals, number of items, gross mass, guarantee and
time limit. Its authenticity is checked against the service's public keys, a JWK Set that the post copies
while online (``https://<kerwen host>/.well-known/jwks.json``, or ``manage.py transit_jwks`` on the
server). Nothing else is needed: Python 3.11 with PyJWT and cryptography; no Django, no database, no
network. This file can be copied alone and run as ``python3 verify.py``.

Usage::

    python -m transit.verify --jwks jwks.json TOKEN
    python -m transit.verify --jwks jwks.json < scanned.txt      (the token on standard input)
    python -m transit.verify --jwks jwks.json --json TOKEN       (the claims as JSON)

It prints ``authentic`` and the document's data, exit status 0, or ``NOT authentic: <reason>``, exit
status 1. A key set that cannot be read is exit status 2. Authentic means the service signed these data;
compare them with the vehicle, its seals and papers. Whether the movement is still open (not cancelled or
discharged) needs the online check.

This module is the one implementation of the verification: ``transit.signing.token_verify`` calls
``token_verify_with_keys``. Keep it free of Django and of any Kerwen module.
"""

import argparse
import base64
import binascii
import datetime
import json
import sys
from collections.abc import Mapping
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "EdDSA"
# Time is not checked: a post's clock may be wrong, and a document stays authentic after its time limit.
# The required claims must be there, and "iat" must be a number.
_DECODE_OPTIONS = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "require": ["mrn", "iat"]}


class TokenInvalid(Exception):
    """The token is not authentic. ``reason`` is one of the four constants below (English, stable:
    callers map it to their own messages); ``detail`` says more, for logs."""

    MALFORMED = "malformed"
    WRONG_ALGORITHM = "wrong algorithm"
    UNKNOWN_KID = "unknown kid"
    BAD_SIGNATURE = "bad signature"

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason
        self.detail = detail


def _base64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_keys_from_jwks(jwks: Mapping) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 signature keys of a JWK Set, by key id. Keys of other types or uses are left out (a
    token naming one is then refused as of an unknown kid). Raises ``ValueError`` when the set is
    malformed, holds a private key, or has no Ed25519 signature key at all."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise ValueError('not a JWK Set: expected an object with a "keys" list')
    keys = {}
    for jwk in jwks["keys"]:
        if not isinstance(jwk, Mapping):
            raise ValueError("not a JWK Set: a key is not an object")
        if "d" in jwk:
            raise ValueError(f"the key {jwk.get('kid')!r} is a private key: never copy or publish it")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALGORITHM) != ALGORITHM:
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ValueError("an Ed25519 key of the set has no key id (kid)")
        try:
            raw = _base64url_decode(jwk["x"])
            keys[kid] = Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise ValueError(f"the key {kid!r} is not a valid Ed25519 public key") from error
    if not keys:
        raise ValueError("the JWK Set holds no Ed25519 signature key")
    return keys


def token_verify_with_keys(token: str, keys: Mapping[str, Ed25519PublicKey]) -> dict:
    """The claims of ``token`` if one of ``keys`` (by its ``kid`` header) signed it with EdDSA; else
    ``TokenInvalid`` with the reason. Any algorithm but EdDSA is refused ("none", HS256 with the public
    key as the secret...), before a key is even looked up."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise TokenInvalid(TokenInvalid.MALFORMED, "not ASCII") from None
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenInvalid(TokenInvalid.MALFORMED, "not a compact JWS of three parts")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise TokenInvalid(TokenInvalid.MALFORMED, str(error)) from None
    algorithm = header.get("alg")
    if algorithm != ALGORITHM:
        raise TokenInvalid(TokenInvalid.WRONG_ALGORITHM, f"{algorithm!r}, not {ALGORITHM}")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise TokenInvalid(TokenInvalid.UNKNOWN_KID, repr(kid))
    try:
        claims = jwt.decode(token, keys[kid], algorithms=[ALGORITHM], options=_DECODE_OPTIONS)
    except jwt.InvalidSignatureError:
        raise TokenInvalid(TokenInvalid.BAD_SIGNATURE) from None
    except jwt.InvalidTokenError as error:  # undecodable payload, missing claims
        raise TokenInvalid(TokenInvalid.MALFORMED, str(error)) from None
    if isinstance(claims["iat"], bool) or not isinstance(claims["iat"], int | float):
        raise TokenInvalid(TokenInvalid.MALFORMED, "iat is not a number")
    return claims


def token_verify_with_jwks(token: str, jwks: Mapping) -> dict:
    """``token_verify_with_keys`` against the keys of a JWK Set (parsed at every call: for many tokens,
    parse once with ``public_keys_from_jwks``)."""
    return token_verify_with_keys(token, public_keys_from_jwks(jwks))


# What the claims mean, in the order a document shows them.
CLAIM_LABELS = {
    "mrn": "MRN",
    "dep": "Office of departure",
    "dst": "Office of destination",
    "trn": "Offices of transit",
    "prn": "Principal",
    "pla": "Means of transport",
    "sea": "Seals",
    "itm": "Number of items",
    "gms": "Gross mass (kg)",
    "grn": "Guarantee reference",
    "tlm": "Time limit",
    "iat": "Issued",
}


def _claim_text(name: str, value) -> str:
    if name == "iat":
        issued = datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
        return issued.strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, list):
        return ", ".join(str(element) for element in value) or "-"
    if value in ("", None):
        return "-"
    return str(value)


def claims_text(claims: Mapping, kid: str) -> list[str]:
    """The claims as labelled lines, for the officer."""
    names = [name for name in CLAIM_LABELS if name in claims] + sorted(set(claims) - set(CLAIM_LABELS))
    labels = {name: CLAIM_LABELS.get(name, name) for name in names}
    labels["kid"] = "Signed with key"
    width = max(len(label) for label in labels.values()) + 1
    lines = [f"  {labels[name] + ':':<{width}} {_claim_text(name, claims[name])}" for name in names]
    lines.append(f"  {labels['kid'] + ':':<{width}} {kid}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m transit.verify",
        description="Check offline that the QR token of a transit accompanying document was signed by the "
        "customs service. Prints 'authentic' and the document's data (exit status 0) or "
        "'NOT authentic: <reason>' (exit status 1).",
    )
    parser.add_argument(
        "--jwks", required=True, type=Path, help="the service's public keys, a JWK Set file (jwks.json)"
    )
    parser.add_argument("--json", action="store_true", help="print the claims as JSON after 'authentic'")
    parser.add_argument("token", nargs="?", default="-", help="the scanned token; '-' or none: read stdin")
    arguments = parser.parse_args(argv)
    try:
        keys = public_keys_from_jwks(json.loads(arguments.jwks.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        print(f"error: cannot use the key set {arguments.jwks}: {error}", file=sys.stderr)
        return 2
    token = sys.stdin.read() if arguments.token == "-" else arguments.token
    token = "".join(token.split())  # a scanner or a copy may add line breaks
    try:
        claims = token_verify_with_keys(token, keys)
    except TokenInvalid as error:
        print(f"NOT authentic: {error}")
        return 1
    print("authentic")
    if arguments.json:
        print(json.dumps(claims, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        print("\n".join(claims_text(claims, jwt.get_unverified_header(token)["kid"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
