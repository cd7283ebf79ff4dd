"""HMAC signatures of HTTP bodies, one scheme both ways: banks sign their payment callbacks with it, and
Kerwen signs the webhooks it sends to traders' systems.

``X-Kerwen-Timestamp``: seconds since the epoch; ``X-Kerwen-Signature``: ``sha256=`` + the hex
HMAC-SHA256, keyed with the shared secret, of ``<timestamp>.<body>``. The timestamp inside the signed
message lets the receiver refuse replays older than a few minutes.
"""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Kerwen-Signature"
TIMESTAMP_HEADER = "X-Kerwen-Timestamp"


def hmac_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def hmac_signature_matches(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is the one ``hmac_signature`` gives (compared in constant time)."""
    return hmac.compare_digest(hmac_signature(secret, timestamp, body), (signature or "").strip())
