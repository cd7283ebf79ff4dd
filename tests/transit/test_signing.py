"""The signed token of the transit accompanying document: signing, verification, keys and their rotation,
the published JWK Set (endpoint and management command). No database."""

import base64
import datetime
import json
import logging
import stat
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.urls import reverse

from transit.data import PartyData, TransitData, TransitItemData
from transit.signing import (
    TokenInvalid,
    claims_from_transit,
    jwks,
    token_invalid_message,
    token_sign,
    token_verify,
)

CLAIMS = {
    "mrn": "26TMTMA010000014J9",
    "dep": "TMA01",
    "dst": "KZ0401",
    "trn": ["TMF02", "UZ1700"],
    "prn": "TM102030405060",
    "pla": "AG 1234 LB",
    "sea": ["TM0012345", "TM0012346"],
    "itm": 3,
    "gms": "18250.500",
    "grn": "26TM0000000000123",
    "tlm": "2026-06-20",
    "iat": 1781856000,
}
BASE_DIR = Path(__file__).resolve().parents[2]
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture
def keys_dir(settings, tmp_path):
    directory = tmp_path / "transit-keys"
    settings.TRANSIT_SIGNING_KEYS_DIR = directory
    return directory


def _write_key(directory, kid, key=None):
    directory.mkdir(parents=True, exist_ok=True)
    key = key or Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (directory / f"{kid}.pem").write_bytes(pem)
    return key


def _segment(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _reason(token, **kwargs):
    with pytest.raises(TokenInvalid) as caught:
        token_verify(token, **kwargs)
    return caught.value.reason


# Signing and verification -------------------------------------------------------------------------


def test_sign_verify_round_trip(keys_dir):
    _write_key(keys_dir, "2026-01")
    token = token_sign(CLAIMS)
    assert token_verify(token) == CLAIMS
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "2026-01"}


def test_token_is_compact(keys_dir):
    _write_key(keys_dir, "2026-01")
    assert len(token_sign(CLAIMS)) == 456  # a QR code of version 17 (85 x 85 modules) at error correction M


def test_issue_time_is_added_when_missing(keys_dir, monkeypatch):
    _write_key(keys_dir, "2026-01")
    monkeypatch.setattr("transit.signing.time.time", lambda: 1781856000.7)
    claims = token_verify(token_sign({"mrn": CLAIMS["mrn"]}))
    assert claims == {"mrn": CLAIMS["mrn"], "iat": 1781856000}


def test_token_issued_in_the_future_of_the_verifier_still_verifies(keys_dir):
    """A border post's clock may be behind: the issue time is not checked against it."""
    _write_key(keys_dir, "2026-01")
    future = int(datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC).timestamp())
    assert token_verify(token_sign(CLAIMS | {"iat": future}))["iat"] == future


def test_first_use_generates_a_private_key_and_warns(keys_dir, caplog):
    caplog.set_level(logging.WARNING, logger="transit.signing")
    token = token_sign(CLAIMS)
    files = list(keys_dir.glob("*.pem"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert jwt.get_unverified_header(token)["kid"] == files[0].name.removesuffix(".pem")
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "No transit signing key in" in caplog.records[0].getMessage()
    assert isinstance(serialization.load_pem_private_key(files[0].read_bytes(), None), Ed25519PrivateKey)
    # The next use finds it: no second key, no second warning.
    caplog.clear()
    assert token_verify(token) == CLAIMS
    assert len(list(keys_dir.glob("*.pem"))) == 1 and caplog.records == []


def test_processes_starting_together_generate_one_key(keys_dir):
    """Web and worker processes meeting an empty directory at once: one key, shared by both."""
    program = (
        "import sys; from django.conf import settings;"
        "settings.configure(TRANSIT_SIGNING_KEYS_DIR=sys.argv[1]);"
        "from transit.signing import jwks; key = jwks()['keys'][0]; print(key['kid'], key['x'])"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", program, str(keys_dir)], cwd=BASE_DIR, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert [process.returncode for process in processes] == [0] * 4
    assert len(keys) == 1  # the same kid and the same public key in every process
    kid, public_x = keys.pop().split()
    assert [path.name for path in keys_dir.glob("*.pem")] == [f"{kid}.pem"]
    assert jwks()["keys"][0]["x"] == public_x


def test_keys_are_cached_until_the_directory_changes(keys_dir):
    from transit import signing

    _write_key(keys_dir, "2026-01")
    first = signing._keyring()
    assert signing._keyring() is first
    _write_key(keys_dir, "2026-06")
    assert signing._keyring() is not first
    assert signing._keyring().signing_kid == "2026-06"


# One byte changed ---------------------------------------------------------------------------------


def test_every_single_byte_changed_fails(keys_dir):
    """Each position of each part (header, payload, signature, the dots), changed to another character
    of the token alphabet (or a dot changed to a letter), is refused, with a reason that fits the part."""
    _write_key(keys_dir, "2026-01")
    token = token_sign(CLAIMS)
    header_end = token.index(".")
    payload_end = token.rindex(".")
    reasons = {"header": set(), "payload": set(), "signature": set(), "dot": set()}
    for position, original in enumerate(token):
        if position in (header_end, payload_end):
            part = "dot"
        elif position < header_end:
            part = "header"
        elif position < payload_end:
            part = "payload"
        else:
            part = "signature"
        # Two replacements per position: the next character of the alphabet, and one far from it.
        index = BASE64URL.find(original)
        replacements = {BASE64URL[(index + 1) % 64], BASE64URL[(index + 32) % 64]} if index >= 0 else {"A"}
        for replacement in replacements:
            changed = token[:position] + replacement + token[position + 1 :]
            reasons[part].add(_reason(changed))
    assert reasons["dot"] == {"malformed"}
    assert reasons["header"] <= {"malformed", "wrong algorithm", "unknown kid"}
    assert reasons["payload"] == {"bad signature", "malformed"}
    assert reasons["signature"] == {"bad signature", "malformed"}


def test_a_changed_claim_fails_the_signature(keys_dir):
    _write_key(keys_dir, "2026-01")
    header, _payload, signature = token_sign(CLAIMS).split(".")
    for change in ({"itm": 4}, {"pla": "AG 1235 LB"}, {"sea": ["TM0012345"]}, {"gms": "8250.500"}):
        forged = f"{header}.{_segment(CLAIMS | change)}.{signature}"
        assert _reason(forged) == "bad signature"


def test_a_byte_changed_in_the_signed_bytes_fails(keys_dir):
    """One byte of the decoded payload and of the decoded signature, re-encoded validly."""
    _write_key(keys_dir, "2026-01")
    header, payload, signature = token_sign(CLAIMS).split(".")
    payload_bytes = bytearray(jwt.utils.base64url_decode(payload))
    signature_bytes = bytearray(jwt.utils.base64url_decode(signature))
    for index in range(len(signature_bytes)):
        altered = bytearray(signature_bytes)
        altered[index] ^= 0x01
        forged = f"{header}.{payload}.{jwt.utils.base64url_encode(bytes(altered)).decode()}"
        assert _reason(forged) == "bad signature", index
    digit = payload_bytes.index(b'"itm":3') + len(b'"itm":')
    payload_bytes[digit] = ord("4")
    forged = f"{header}.{jwt.utils.base64url_encode(bytes(payload_bytes)).decode()}.{signature}"
    assert _reason(forged) == "bad signature"


# Keys, algorithms ---------------------------------------------------------------------------------


def test_unknown_kid_is_refused(keys_dir, tmp_path, settings):
    _write_key(keys_dir, "2026-01")
    settings.TRANSIT_SIGNING_KEYS_DIR = tmp_path / "other-installation"
    _write_key(tmp_path / "other-installation", "2026-02")
    foreign = token_sign(CLAIMS)
    settings.TRANSIT_SIGNING_KEYS_DIR = keys_dir
    assert _reason(foreign) == "unknown kid"


def test_foreign_key_under_our_kid_is_a_bad_signature(keys_dir):
    _write_key(keys_dir, "2026-01")
    forged = jwt.encode(
        CLAIMS, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "2026-01", "typ": None}
    )
    assert _reason(forged) == "bad signature"


def test_missing_kid_is_refused(keys_dir):
    _write_key(keys_dir, "2026-01")
    token = token_sign(CLAIMS)
    _header, payload, signature = token.split(".")
    assert _reason(f"{_segment({'alg': 'EdDSA'})}.{payload}.{signature}") == "unknown kid"


def test_alg_none_is_refused(keys_dir):
    _write_key(keys_dir, "2026-01")
    unsigned = jwt.encode(CLAIMS, None, algorithm="none", headers={"kid": "2026-01"})
    assert _reason(unsigned) == "wrong algorithm"
    # And with an EdDSA signature appended, still refused on the algorithm.
    signature = token_sign(CLAIMS).rsplit(".", 1)[1]
    assert _reason(unsigned + signature) == "wrong algorithm"


def test_hs256_is_refused_even_with_the_public_key_as_secret(keys_dir):
    """Algorithm confusion: HMAC keyed with the published public key."""
    _write_key(keys_dir, "2026-01")
    public_x = jwks()["keys"][0]["x"]
    for secret in (public_x.encode(), jwt.utils.base64url_decode(public_x), b"secret" * 8):
        forged = jwt.encode(CLAIMS, secret, algorithm="HS256", headers={"kid": "2026-01"})
        assert _reason(forged) == "wrong algorithm"


def test_other_asymmetric_algorithms_are_refused(keys_dir):
    _write_key(keys_dir, "2026-01")
    forged = jwt.encode(
        CLAIMS, generate_private_key(SECP256R1()), algorithm="ES256", headers={"kid": "2026-01"}
    )
    assert _reason(forged) == "wrong algorithm"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "ä.b.c",
        "....",
        " . . ",
        _segment(["EdDSA"]) + ".e30.AAAA",  # a header that is not an object
    ],
)
def test_malformed_tokens_are_refused(keys_dir, token):
    _write_key(keys_dir, "2026-01")
    assert _reason(token) == "malformed"


def test_empty_payload_or_signature_is_refused(keys_dir):
    _write_key(keys_dir, "2026-01")
    header = _segment({"alg": "EdDSA", "kid": "2026-01"})
    assert _reason(f"{header}..") == "bad signature"
    assert _reason(f"{header}.e30.") == "bad signature"  # "{}", no signature


def test_token_without_an_mrn_is_malformed(keys_dir):
    _write_key(keys_dir, "2026-01")
    assert _reason(token_sign({"dep": "TMA01"})) == "malformed"


def test_key_rotation(keys_dir):
    """Two keys: the one whose name sorts last signs, tokens of the older one still verify, both are
    published."""
    _write_key(keys_dir, "2026-01")
    old = token_sign(CLAIMS)
    _write_key(keys_dir, "2026-06")
    new = token_sign(CLAIMS)
    assert jwt.get_unverified_header(old)["kid"] == "2026-01"
    assert jwt.get_unverified_header(new)["kid"] == "2026-06"
    assert token_verify(old) == CLAIMS
    assert token_verify(new) == CLAIMS
    assert [key["kid"] for key in jwks()["keys"]] == ["2026-01", "2026-06"]
    # The old key withdrawn: its tokens are refused, the new ones still verify.
    (keys_dir / "2026-01.pem").unlink()
    assert _reason(old) == "unknown kid"
    assert token_verify(new) == CLAIMS


def test_verify_against_a_given_jwks(keys_dir, tmp_path, settings):
    _write_key(keys_dir, "2026-01")
    token = token_sign(CLAIMS)
    published = jwks()
    settings.TRANSIT_SIGNING_KEYS_DIR = tmp_path / "elsewhere"
    _write_key(tmp_path / "elsewhere", "2030-01")
    assert token_verify(token, jwks=published) == CLAIMS
    assert _reason(token, jwks=jwks()) == "unknown kid"


def test_a_key_that_is_not_ed25519_is_a_configuration_error(keys_dir):
    keys_dir.mkdir()
    pem = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (keys_dir / "2026-01.pem").write_bytes(pem)
    with pytest.raises(ImproperlyConfigured, match="is not an Ed25519 key"):
        token_sign(CLAIMS)
    (keys_dir / "2026-01.pem").write_text("not a key")
    with pytest.raises(ImproperlyConfigured, match="not an unencrypted PEM private key"):
        token_sign(CLAIMS)


def test_hidden_and_other_files_are_not_keys(keys_dir):
    _write_key(keys_dir, "2026-01")
    (keys_dir / "README.txt").write_text("keys of the transit documents")
    (keys_dir / ".2027-01.pem.tmp").write_text("half a key")
    assert [key["kid"] for key in jwks()["keys"]] == ["2026-01"]


def test_reasons_have_translated_messages(keys_dir):
    _write_key(keys_dir, "2026-01")
    with pytest.raises(TokenInvalid) as caught:
        token_verify("a.b.c")
    assert token_invalid_message(caught.value) == (
        "This is not a transit document token, or it was read incompletely."
    )


# The JWK Set --------------------------------------------------------------------------------------


def test_jwks_lists_the_public_keys(keys_dir):
    key = _write_key(keys_dir, "2026-01")
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert jwks() == {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
                "kid": "2026-01",
                "use": "sig",
                "alg": "EdDSA",
            }
        ]
    }


def test_jwks_is_a_copy(keys_dir):
    _write_key(keys_dir, "2026-01")
    jwks()["keys"].clear()
    assert len(jwks()["keys"]) == 1


def test_jwks_endpoint(keys_dir, client):
    _write_key(keys_dir, "2026-01")
    _write_key(keys_dir, "2026-06")
    response = client.get("/.well-known/jwks.json")
    assert reverse("well-known:jwks") == "/.well-known/jwks.json"
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwk-set+json"
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=300"}
    assert json.loads(response.content) == jwks()
    assert [sorted(key) for key in json.loads(response.content)["keys"]] == [
        ["alg", "crv", "kid", "kty", "use", "x"]
    ] * 2  # never the private part "d"


def test_jwks_endpoint_needs_no_sign_in_and_refuses_writes(keys_dir, client):
    _write_key(keys_dir, "2026-01")
    assert client.head("/.well-known/jwks.json").status_code == 200
    assert client.post("/.well-known/jwks.json").status_code == 405


def test_transit_jwks_command_writes_a_file(keys_dir, tmp_path):
    _write_key(keys_dir, "2026-01")
    output = tmp_path / "jwks.json"
    errors = StringIO()
    call_command("transit_jwks", "--output", str(output), stderr=errors)
    assert json.loads(output.read_text()) == jwks()
    assert errors.getvalue() == f"Wrote 1 public key(s) to {output}.\n"


def test_transit_jwks_command_writes_stdout(keys_dir):
    _write_key(keys_dir, "2026-01")
    out = StringIO()
    call_command("transit_jwks", stdout=out)
    assert json.loads(out.getvalue()) == jwks()


# The claims of a movement -------------------------------------------------------------------------


def _released_t1() -> TransitData:
    return TransitData(
        lrn="LRN-2026-0001",
        departure_office="TMA01",
        destination_office="KZ0401",
        transit_offices=["TMF02", "UZ1700"],
        principal=PartyData(identification="TM102030405060", name="Garagum Logistics"),
        transport_identity="AG 1234 LB",
        transport_nationality="TM",
        seals=["TM0012345", "TM0012346"],
        time_limit=datetime.date(2026, 6, 20),
        guarantee_reference="26TM0000000000123",
        items=[
            TransitItemData(1, "520100", "Cotton", 40, "BL", Decimal("10000.000")),
            TransitItemData(2, "520512", "Cotton yarn", 120, "CT", Decimal("8000.500")),
            TransitItemData(3, "630231", "Towels", 50, "CT", Decimal("250")),
        ],
        mrn="26TMTMA010000014J9",
        issued_at=datetime.datetime(2026, 6, 19, 8, 0, tzinfo=datetime.UTC),
    )


def test_claims_from_transit():
    assert claims_from_transit(_released_t1()) == CLAIMS


def test_claims_from_transit_mass_is_fixed_point_text():
    data = _released_t1()
    data.items = [TransitItemData(1, "520100", "Cotton", 40, "BL", Decimal("1E+3"))]
    assert claims_from_transit(data)["gms"] == "1000"


def test_claims_from_transit_needs_an_mrn_and_an_aware_issue_time():
    data = _released_t1()
    data.issued_at = datetime.datetime(2026, 6, 19, 8, 0)
    with pytest.raises(ValueError, match="aware"):
        claims_from_transit(data)
    data.mrn = ""
    with pytest.raises(ValueError, match="no MRN"):
        claims_from_transit(data)


def test_claims_from_transit_round_trip(keys_dir):
    claims = claims_from_transit(_released_t1())
    assert token_verify(token_sign(claims)) == claims
