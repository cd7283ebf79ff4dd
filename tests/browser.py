"""What the browser tests share: signing a staff member in with password and TOTP code."""

from django_otp.oath import totp

STAFF_PASSWORD = "Border-post-2026"


def sign_in_with_totp(page, base_url, username, device, password=STAFF_PASSWORD):
    """Sign ``username`` in on the login page, then type the current code of ``device``; ends on the
    officer's home page."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("#login-submit").click()
    page.wait_for_url("**/accounts/two-factor/**")
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.locator("#token-submit").click()
    page.wait_for_url("**/office/")
