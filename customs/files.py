"""Uploaded files: is a file what its declared content type says? The type a client declares is not
trusted alone (an HTML page sent as application/pdf, a WAV file sent as image/webp)."""

# The signatures each content type's files start with.
SIGNATURES = {
    "application/pdf": (b"%PDF",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "image/webp": (b"RIFF",),
}


def content_matches(file, content_type: str) -> bool:
    """True when ``file`` starts with a signature of ``content_type`` (read from the start; the file is
    left at its start). A WebP image is the RIFF container of form ``WEBP``: RIFF alone is also WAV."""
    if content_type not in SIGNATURES:
        return False
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if not head.startswith(SIGNATURES[content_type]):
        return False
    return content_type != "image/webp" or head[8:12] == b"WEBP"
