"""Sample document, images, fonts, TSA HTTP checks and error mapping (no HSM needed)."""

from __future__ import annotations

import io

import pytest
from fontTools.ttLib import TTFont
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from services.certificates.devpki import DEV_PERSON
from services.signing.adapters.fonts import prepared_font
from services.signing.adapters.images import (
    EncodedImage,
    handwritten_signature_png,
    round_seal_png,
)
from services.signing.adapters.sample_document import (
    DATE_FIELD,
    NUMBER_FIELD,
    ORGANISATION_SIGNATURE_FIELD,
    PERSON_SIGNATURE_FIELD,
    default_content,
    generate_sample,
)
from services.signing.adapters.tsa import rfc3161_wsgi_app
from services.signing.domain import errors


@pytest.fixture(scope="module")
def sample() -> tuple[bytes, object]:
    return generate_sample(default_content(DEV_PERSON))


def test_sample_has_empty_fields_where_the_layout_says(sample) -> None:  # type: ignore[no-untyped-def]
    pdf, layout = sample
    reader = PdfFileReader(io.BytesIO(pdf), strict=True)
    fields = {f.get_object()["/T"]: f.get_object() for f in reader.root["/AcroForm"]["/Fields"]}
    assert set(fields) == {
        NUMBER_FIELD,
        DATE_FIELD,
        PERSON_SIGNATURE_FIELD,
        ORGANISATION_SIGNATURE_FIELD,
    }
    assert fields[NUMBER_FIELD]["/FT"] == "/Tx" and "/V" not in fields[NUMBER_FIELD]
    person_field = fields[PERSON_SIGNATURE_FIELD]
    assert person_field["/FT"] == "/Sig" and "/V" not in person_field
    person = [round(float(v), 1) for v in fields[PERSON_SIGNATURE_FIELD]["/Rect"]]
    assert person == [round(v, 1) for v in layout.person_signature.as_tuple()]
    assert layout.person_signature.overlap_width(layout.organisation_signature) == pytest.approx(
        layout.person_signature.width / 3
    )


def test_sample_text_is_vietnamese_with_embedded_fonts(sample, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    pdf_path = tmp_path / "sample.pdf"
    pdf_path.write_bytes(sample[0])
    text = subprocess.run(
        ["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Nguyễn Thị Hương Giang",
        "GIÁM ĐỐC",
        "Nơi nhận:",
    ):
        assert expected in text
    fonts = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True).stdout
    assert "LiberationSerif" in fonts
    for line in fonts.splitlines():
        if "LiberationSerif" in line:
            assert " yes yes " in line  # embedded, subset


def _pixels(image: Image.Image) -> list[tuple[int, int, int, int]]:
    raw = image.tobytes()
    return [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]  # type: ignore[misc]


def test_signature_image_is_blue_and_transparent() -> None:
    image = Image.open(io.BytesIO(handwritten_signature_png("Nguyễn Văn An"))).convert("RGBA")
    pixels = [p for p in _pixels(image) if p[3] > 0]
    assert 0 < len(pixels) < image.width * image.height * 0.3
    assert all(b > r and b > g for r, g, b, _ in pixels)
    assert image.getpixel((0, 0))[3] == 0


def test_signature_image_depends_on_the_name() -> None:
    assert handwritten_signature_png("Nguyễn Văn An") != handwritten_signature_png("Trần Thị Bình")


def test_seal_is_red_round_and_transparent_outside() -> None:
    image = Image.open(io.BytesIO(round_seal_png("Sở Tài chính", "000.00.13.H23"))).convert("RGBA")
    assert image.width == image.height
    assert image.getpixel((2, 2))[3] == 0  # corner, outside the circle
    opaque = [p for p in _pixels(image) if p[3] > 0]
    assert all(r > 150 and g < 120 and b < 120 for r, g, b, _ in opaque if _ > 200)


def test_encoded_image_round_trips() -> None:
    import zlib

    png = handwritten_signature_png("A")
    encoded = EncodedImage.from_png(png)
    assert len(zlib.decompress(encoded.rgb_flate)) == encoded.width * encoded.height * 3
    assert len(zlib.decompress(encoded.alpha_flate)) == encoded.width * encoded.height


def test_stamp_font_is_1000_upem_with_vietnamese_glyphs() -> None:
    font = TTFont(prepared_font())
    assert font["head"].unitsPerEm == 1000
    cmap = font.getBestCmap()
    for char in "ẮẰẲẴẶắằẳẵặĐđƠơƯưỹỸ₫":
        assert ord(char) in cmap, char
    assert ord("中") not in cmap  # subset, not the whole font


class _NeverCalled:
    def respond_der(self, body: bytes) -> bytes:  # pragma: no cover - must not be reached
        raise AssertionError("the TSA must not be asked for a bad HTTP request")


def _call(app, method: str, content_type: str, body: bytes) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    output = app(environ, lambda s, headers: status.append(s))
    return status[0], b"".join(output)


@pytest.mark.parametrize(
    ("method", "content_type", "body", "expected"),
    [
        ("GET", "application/timestamp-query", b"x", "405"),
        ("POST", "text/plain", b"x", "415"),
        ("POST", "application/timestamp-query", b"", "400"),
        ("POST", "application/timestamp-query", b"x" * 20000, "400"),
    ],
)
def test_tsa_http_rejects_bad_requests(method, content_type, body, expected) -> None:  # type: ignore[no-untyped-def]
    status, _ = _call(rfc3161_wsgi_app(_NeverCalled()), method, content_type, body)  # type: ignore[arg-type]
    assert status.startswith(expected)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.NotAPdf, "INVALID_ARGUMENT"),
        (errors.EncryptedPdf, "INVALID_ARGUMENT"),
        (errors.CorruptPdf, "INVALID_ARGUMENT"),
        (errors.DocumentTooLarge, "INVALID_ARGUMENT"),
        (errors.BrokenExistingSignature, "INVALID_ARGUMENT"),
        (errors.PersonSignatureMissing, "FAILED_PRECONDITION"),
        (errors.SignerCertificateRevoked, "FAILED_PRECONDITION"),
        (errors.SignerCertificateExpired, "FAILED_PRECONDITION"),
    ],
)
def test_refusals_map_to_grpc_status(error, status) -> None:  # type: ignore[no-untyped-def]
    assert error.grpc_status == status
    assert issubclass(error, errors.SigningRefused)
