"""Download an image from an ``http(s)`` URL, carefully: nstlab's one downloader.

``nstlab.load_image("https://...")`` (and so the command line) uses :func:`fetch_url`: only
``http`` and ``https`` (never ``file://`` or other schemes), a timeout, a size cap, and a
check that the server says it is sending an image. Whatever goes wrong raises
:class:`DownloadError` with a one-line message that names the URL; ``load_image`` passes it
on as an :class:`~nstlab.imaging.images.ImageError`.

The sample images need none of this: they ship with nstlab and matplotlib
(:mod:`nstlab.imaging.data`).
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["DownloadError", "fetch_url", "max_download_bytes"]

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_BYTES_ENV_VAR = "NSTLAB_MAX_DOWNLOAD_BYTES"


class DownloadError(ValueError):
    """A URL could not be downloaded as an image: wrong scheme, not an image, too large,
    or the network failed. The message is one line naming the URL (or the bad setting)."""


def max_download_bytes() -> int:
    """The size cap: ``NSTLAB_MAX_DOWNLOAD_BYTES`` if set, else 50 MiB."""
    value = os.environ.get(MAX_BYTES_ENV_VAR)
    if value is None:
        return DEFAULT_MAX_BYTES
    try:
        return max(1, int(value))
    except ValueError:
        raise DownloadError(
            f"{MAX_BYTES_ENV_VAR} must be a whole number of bytes, not {value!r}") from None


def fetch_url(url: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int | None = None) -> bytes:
    """Download ``url`` and return its bytes, or raise :class:`DownloadError`.

    Refuses schemes other than http(s), responses whose ``Content-Type`` is not ``image/*``,
    and anything larger than ``max_bytes`` (default :func:`max_download_bytes`).
    """
    max_bytes = max_download_bytes() if max_bytes is None else max_bytes
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise DownloadError(f"cannot load '{url}': only http:// and https:// URLs are allowed")
    request = urllib.request.Request(url, headers={"User-Agent": "nstlab"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            if content_type and not content_type.lower().startswith("image/"):
                raise DownloadError(f"'{url}' is not an image (the server sent {content_type})")
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise DownloadError(f"'{url}' is {int(length)} bytes, over the download limit "
                                    f"of {max_bytes} (set {MAX_BYTES_ENV_VAR} to raise it)")
            data = response.read(max_bytes + 1)
    except DownloadError:
        raise
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as error:
        reason = " ".join(str(getattr(error, "reason", None) or error).split())  # one line
        raise DownloadError(f"cannot download '{url}': {reason}") from None
    if len(data) > max_bytes:
        raise DownloadError(f"'{url}' is larger than the download limit of {max_bytes} bytes "
                            f"(set {MAX_BYTES_ENV_VAR} to raise it)")
    return data
