"""Images from http(s) URLs: timeout, size cap, content type, no other schemes (offline fakes)."""

import io
import urllib.error

import numpy as np
import pytest
from PIL import Image

from nstlab.base import download
from nstlab.base.download import DownloadError
from nstlab.imaging.images import ImageError, load_image


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes, content_type: str | None = "image/png", length=True):
        super().__init__(data)
        self.headers = {}
        if content_type is not None:
            self.headers["Content-Type"] = content_type
        if length:
            self.headers["Content-Length"] = str(len(data))


def png_bytes(size=(12, 8), color=(255, 0, 0)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def serve(monkeypatch):
    """Make urlopen answer with a given response; records the requests and timeouts."""
    calls = []

    def install(response):
        def fake_urlopen(request, timeout=None):
            calls.append((request.full_url, timeout))
            if isinstance(response, Exception):
                raise response
            return response

        monkeypatch.setattr(download.urllib.request, "urlopen", fake_urlopen)
        return calls

    return install


def test_url_image_loads_with_a_timeout(serve):
    calls = serve(FakeResponse(png_bytes()))
    image = load_image("https://example.org/red.png")
    assert image.shape == (8, 12, 3)
    np.testing.assert_allclose(image[0, 0], [1, 0, 0])
    assert calls == [("https://example.org/red.png", download.DEFAULT_TIMEOUT)]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x.png",
                                 "data://text/plain,hello"])
def test_other_schemes_are_refused(url, serve):
    calls = serve(FakeResponse(png_bytes()))
    with pytest.raises(ImageError, match="only http:// and https://"):
        load_image(url)
    assert calls == []


def test_non_image_content_type_is_refused(serve):
    serve(FakeResponse(b"<html></html>", content_type="text/html; charset=utf-8"))
    with pytest.raises(ImageError, match="is not an image .*text/html"):
        load_image("https://example.org/page")


def test_size_cap_by_header_and_by_body(serve, monkeypatch):
    serve(FakeResponse(png_bytes(), length=True))
    with pytest.raises(DownloadError, match="over the download limit"):
        download.fetch_url("https://example.org/a.png", max_bytes=10)
    serve(FakeResponse(png_bytes(), length=False))
    monkeypatch.setenv("NSTLAB_MAX_DOWNLOAD_BYTES", "10")
    with pytest.raises(ImageError, match="larger than the download limit of 10 bytes"):
        load_image("https://example.org/a.png")


@pytest.mark.parametrize("failure", [urllib.error.URLError("[Errno -2] Name or service not known"),
                                     TimeoutError("timed out"),
                                     ConnectionResetError("connection reset\nby peer")])
def test_network_failure_is_one_clear_line(serve, failure):
    serve(failure)
    with pytest.raises(ImageError, match="cannot download 'https://example.org/a.png'") as error:
        load_image("https://example.org/a.png")
    assert "\n" not in str(error.value)


def test_fetch_url_raises_download_error_and_load_image_passes_the_message_on(serve):
    serve(FakeResponse(b"<html></html>", content_type="text/html"))
    with pytest.raises(DownloadError) as direct:
        download.fetch_url("https://example.org/page")
    serve(FakeResponse(b"<html></html>", content_type="text/html"))
    with pytest.raises(ImageError) as through_load_image:
        load_image("https://example.org/page")
    assert str(through_load_image.value) == str(direct.value)


def test_a_bad_size_cap_setting_is_refused(serve, monkeypatch):
    serve(FakeResponse(png_bytes()))
    monkeypatch.setenv("NSTLAB_MAX_DOWNLOAD_BYTES", "lots")
    with pytest.raises(ImageError, match="NSTLAB_MAX_DOWNLOAD_BYTES must be a whole number"):
        load_image("https://example.org/a.png")



def test_corrupt_download_names_the_url(serve):
    serve(FakeResponse(png_bytes()[:40]))
    with pytest.raises(ImageError, match="https://example.org/cut.png"):
        load_image("https://example.org/cut.png")
