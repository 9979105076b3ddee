"""Download an image from an ``http(s)`` URL, carefully.

``nstlab.load_image("https://...")`` and the command line use :func:`fetch_url`: only
``http`` and ``https`` (never ``file://`` or other schemes), a timeout, a size cap, and a
check that the server says it is sending an image.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.parse
import urllib.request

from nstlab.images import ImageError

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_BYTES_ENV_VAR = "NSTLAB_MAX_DOWNLOAD_BYTES"


def max_download_bytes() -> int:
    """The size cap: ``NSTLAB_MAX_DOWNLOAD_BYTES`` if set, else 50 MiB."""
    value = os.environ.get(MAX_BYTES_ENV_VAR)
    if value is None:
        return DEFAULT_MAX_BYTES
    try:
        return max(1, int(value))
    except ValueError:
        raise ImageError(
            f"{MAX_BYTES_ENV_VAR} must be a whole number of bytes, not {value!r}") from None


def fetch_url(url: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int | None = None) -> bytes:
    """Download ``url`` and return its bytes, or raise :class:`~nstlab.images.ImageError`.

    Refuses schemes other than http(s), responses whose ``Content-Type`` is not ``image/*``,
    and anything larger than ``max_bytes`` (default :func:`max_download_bytes`).
    """
    max_bytes = max_download_bytes() if max_bytes is None else max_bytes
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise ImageError(f"cannot load '{url}': only http:// and https:// URLs are allowed")
    request = urllib.request.Request(url, headers={"User-Agent": "nstlab"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            if content_type and not content_type.lower().startswith("image/"):
                raise ImageError(f"'{url}' is not an image (the server sent {content_type})")
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise ImageError(f"'{url}' is {int(length)} bytes, over the download limit of "
                                 f"{max_bytes} (set {MAX_BYTES_ENV_VAR} to raise it)")
            data = response.read(max_bytes + 1)
    except ImageError:
        raise
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise ImageError(f"cannot download '{url}': {reason}") from None
    if len(data) > max_bytes:
        raise ImageError(f"'{url}' is larger than the download limit of {max_bytes} bytes "
                         f"(set {MAX_BYTES_ENV_VAR} to raise it)")
    return data
