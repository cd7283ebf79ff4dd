"""The offline verify command of the border posts, run as they run it: a separate Python process with a
JWK Set file, and without Django."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from transit.signing import jwks, token_sign

BASE_DIR = Path(__file__).resolve().parents[2]
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


@pytest.fixture
def signed(settings, tmp_path):
    """A key of this installation, its JWK Set copied to a file as a post would, and a token."""
    keys_dir = tmp_path / "transit-keys"
    keys_dir.mkdir()
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (keys_dir / "2026-01.pem").write_bytes(pem)
    settings.TRANSIT_SIGNING_KEYS_DIR = keys_dir
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks()))
    return jwks_file, token_sign(CLAIMS)


def _environment(**extra) -> dict:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    environment.pop("PYTHONPATH", None)
    return environment | extra


def _run(*arguments, stdin=None, python_options=(), cwd=BASE_DIR, environment=None):
    return subprocess.run(
        [sys.executable, *python_options, "-m", "transit.verify", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment or _environment(),
        timeout=60,
    )


def test_authentic_token(signed):
    jwks_file, token = signed
    result = _run("--jwks", str(jwks_file), token)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "authentic\n"
        "  MRN:                   26TMTMA010000014J9\n"
        "  Office of departure:   TMA01\n"
        "  Office of destination: KZ0401\n"
        "  Offices of transit:    TMF02, UZ1700\n"
        "  Principal:             TM102030405060\n"
        "  Means of transport:    AG 1234 LB\n"
        "  Seals:                 TM0012345, TM0012346\n"
        "  Number of items:       3\n"
        "  Gross mass (kg):       18250.500\n"
        "  Guarantee reference:   26TM0000000000123\n"
        "  Time limit:            2026-06-20\n"
        "  Issued:                2026-06-19 08:00:00 UTC\n"
        "  Signed with key:       2026-01\n"
    )
    assert result.stderr == ""


def test_token_on_stdin_with_line_breaks(signed):
    jwks_file, token = signed
    result = _run("--jwks", str(jwks_file), stdin=token[:100] + "\n" + token[100:] + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("authentic\n  MRN:")


def test_json_output(signed):
    jwks_file, token = signed
    result = _run("--jwks", str(jwks_file), "--json", token)
    assert result.returncode == 0
    first_line, claims = result.stdout.split("\n", 1)
    assert first_line == "authentic"
    assert json.loads(claims) == CLAIMS


def test_changed_byte_is_not_authentic(signed):
    jwks_file, token = signed
    header, payload, signature = token.split(".")
    position = len(payload) // 2
    forged_payload = payload[:position] + ("A" if payload[position] != "A" else "B") + payload[position + 1 :]
    result = _run("--jwks", str(jwks_file), f"{header}.{forged_payload}.{signature}")
    assert result.returncode == 1
    assert result.stdout == "NOT authentic: bad signature\n"


def test_unknown_kid_is_not_authentic(signed):
    jwks_file, _token = signed
    foreign = jwt.encode(CLAIMS, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "2031-01"})
    result = _run("--jwks", str(jwks_file), foreign)
    assert result.returncode == 1
    assert result.stdout == "NOT authentic: unknown kid ('2031-01')\n"


def test_alg_none_and_garbage_are_not_authentic(signed):
    jwks_file, _token = signed
    unsigned = jwt.encode(CLAIMS, None, algorithm="none", headers={"kid": "2026-01"})
    result = _run("--jwks", str(jwks_file), unsigned)
    assert (result.returncode, result.stdout) == (1, "NOT authentic: wrong algorithm ('none', not EdDSA)\n")
    result = _run("--jwks", str(jwks_file), "https://example.org/not-a-token")
    assert (result.returncode, result.stdout) == (
        1,
        "NOT authentic: malformed (not a compact JWS of three parts)\n",
    )


def test_unreadable_key_set_is_exit_status_2(signed, tmp_path):
    _jwks_file, token = signed
    result = _run("--jwks", str(tmp_path / "missing.json"), token)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: cannot use the key set ")
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}]}))
    result = _run("--jwks", str(private), token)
    assert result.returncode == 2 and "is a private key" in result.stderr


def test_no_django_is_imported(signed):
    """``-X importtime`` lists every module the command imports: none of Django."""
    jwks_file, token = signed
    result = _run("--jwks", str(jwks_file), token, python_options=("-X", "importtime"))
    assert result.returncode == 0
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert "jwt" in imported and "transit" in imported  # transit.verify itself runs as __main__
    assert [name for name in imported if name.split(".")[0] in ("django", "environ", "customs")] == []


def test_runs_where_django_cannot_be_imported(signed, tmp_path):
    """A post's machine has no Django: one that fails on import is first on the path, and the command
    still works."""
    jwks_file, token = signed
    poisoned = tmp_path / "no-django"
    (poisoned / "django").mkdir(parents=True)
    (poisoned / "django" / "__init__.py").write_text("raise ImportError('Django is not installed here')\n")
    result = _run("--jwks", str(jwks_file), token, environment=_environment(PYTHONPATH=str(poisoned)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("authentic\n")


def test_the_file_copied_alone_runs_as_a_script(signed, tmp_path):
    jwks_file, token = signed
    post = tmp_path / "border-post"
    post.mkdir()
    shutil.copy(BASE_DIR / "transit" / "verify.py", post / "verify.py")
    result = subprocess.run(
        [sys.executable, "verify.py", "--jwks", str(jwks_file), token],
        capture_output=True,
        text=True,
        cwd=post,
        env=_environment(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("authentic\n")
