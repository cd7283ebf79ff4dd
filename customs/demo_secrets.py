"""The public secrets of the demo (README): its password and the demo staff's TOTP secret.

Kept free of Django imports so ``make totp`` prints a code without starting any service.
Never load the demo into a production database.
"""

from django_otp.oath import totp

DEMO_PASSWORD = "Kerwen-demo-2026"
# The demo staff's shared TOTP secret, hex as django-otp stores it; in base32, for an authenticator app:
DEMO_TOTP_KEY = "4b657277656e44656d6f32303236544f54502121"
DEMO_TOTP_BASE32 = "JNSX E53F NZCG K3LP GIYD ENSU J5KF AIJB"
# The demo bank's (HALK) callback signing secret and API key: public, for trying the payment API.
DEMO_BANK_SECRET = "kerwen-demo-bank-signing-secret"
DEMO_BANK_API_KEY = "demohalk.kerwen-demo-bank-api-key-2026"
# The demo broker's software (BR-0001): declarations, imports and the events API.
DEMO_BROKER_API_KEY = "demobrkr.kerwen-demo-broker-api-key-2026"


def demo_totp_code() -> str:
    """The demo staff's current six-digit code."""
    return f"{totp(bytes.fromhex(DEMO_TOTP_KEY)):06d}"


if __name__ == "__main__":
    print(demo_totp_code())
