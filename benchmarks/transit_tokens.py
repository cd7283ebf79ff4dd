"""Transit token benchmarks: signing and verification of the QR token of the transit accompanying document.

Run with ``python -m benchmarks.transit_tokens [--count N]``. No database or Redis: Django's settings are
configured in process with a fresh key in a temporary directory (``--keys-dir`` to use an existing one).
Prints, for each operation, tokens per second over the run and the median time of one token:

- ``sign``: ``transit.signing.token_sign`` of a realistic claim set (two offices of transit, two seals);
- ``verify``: ``transit.signing.token_verify``, the installation's keys (what the verify page does);
- ``verify, keys from a JWK Set``: ``transit.verify.token_verify_with_keys`` with the set parsed once (what
  the offline command does for each token);
- ``verify, JWK Set parsed per token``: ``token_verify(token, jwks=...)``;
- the offline command as a border post runs it (a new Python process per token), median of 5.

Target (issue #7): verification ≥ 2,000 tokens/s. Figures depend on the machine and its load: the load
average is printed with them.
"""

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
BASE_DIR = Path(__file__).resolve().parent.parent


def _measure(label: str, operation, count: int) -> None:
    durations = []
    started = time.perf_counter()
    for _ in range(count):
        before = time.perf_counter_ns()
        operation()
        durations.append(time.perf_counter_ns() - before)
    elapsed = time.perf_counter() - started
    median = statistics.median(durations) / 1000
    p95 = sorted(durations)[int(0.95 * (count - 1))] / 1000
    print(f"{label:<36} {count / elapsed:>9,.0f} tokens/s   median {median:>7.1f} µs   p95 {p95:>7.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000, help="tokens per measurement (default 20000)")
    parser.add_argument("--keys-dir", type=Path, default=None, help="key directory (default: a fresh one)")
    arguments = parser.parse_args()
    if arguments.keys_dir:
        run(arguments.count, arguments.keys_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="kerwen-bench-keys-") as keys_dir:
            run(arguments.count, Path(keys_dir))


def run(count: int, keys_dir: Path) -> None:
    from django.conf import settings

    settings.configure(TRANSIT_SIGNING_KEYS_DIR=keys_dir)
    logging.basicConfig(level=logging.ERROR)  # the first use generates a key, with a warning

    from transit.signing import jwks, token_sign, token_verify
    from transit.verify import public_keys_from_jwks, token_verify_with_keys

    token = token_sign(CLAIMS)
    assert token_verify(token) == CLAIMS
    key_set = jwks()
    keys = public_keys_from_jwks(key_set)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Transit tokens: {count:,} per measurement; {os.cpu_count()} CPUs, load average {load}")
    print(f"token: {len(token)} characters, keys: {', '.join(key['kid'] for key in key_set['keys'])}")
    try:
        import qrcode

        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(token)
        code.make(fit=True)
        print(f"QR code: version {code.version} ({17 + 4 * code.version} modules a side) at correction M")
    except ImportError:
        pass

    _measure("sign", lambda: token_sign(CLAIMS), count)
    _measure("verify", lambda: token_verify(token), count)
    _measure("verify, keys from a JWK Set", lambda: token_verify_with_keys(token, keys), count)
    _measure("verify, JWK Set parsed per token", lambda: token_verify(token, jwks=key_set), count)

    with tempfile.TemporaryDirectory() as directory:
        jwks_file = Path(directory) / "jwks.json"
        jwks_file.write_text(json.dumps(key_set))
        command = [sys.executable, "-m", "transit.verify", "--jwks", str(jwks_file), token]
        runs = []
        for _ in range(5):
            before = time.perf_counter()
            result = subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True, check=False)
            runs.append(time.perf_counter() - before)
            assert result.returncode == 0, result.stdout + result.stderr
        print(f"{'offline command, one process a token':<36} median {statistics.median(runs) * 1000:.0f} ms")
    print("target: verification >= 2,000 tokens/s")


if __name__ == "__main__":
    main()
