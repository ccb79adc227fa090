"""Signature and seal images, and their PDF XObjects encoded once per signer.

* :func:`handwritten_signature_png` draws a blue, transparent, handwriting-like flourish that is
  deterministic for a given name (the dev PKI and tests have no scanned signatures).
* :func:`round_seal_png` draws a red, transparent, round seal with the agency name around the
  rim and a star in the centre, at a given real diameter (NĐ 30/2020 Phụ lục I: "kích thước
  bằng kích thước thực tế của dấu").
* :class:`EncodedImageContent` is a pyHanko content whose image and soft-mask streams were
  Flate-compressed once; each signature only copies the bytes into the new revision, instead
  of re-encoding the PNG (a measured cost of the naive workflow, see issue #4 "Pitfalls").
"""

from __future__ import annotations

import hashlib
import io
import math
import zlib
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import PdfContent, ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.layout import BoxConstraints

SIGNATURE_BLUE = (0, 45, 180)
SEAL_RED = (215, 20, 30)
BOLD_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def handwritten_signature_png(name: str, width_px: int = 600, height_px: int = 240) -> bytes:
    """Return a PNG (RGBA, transparent) of a blue flourish seeded by ``name``."""
    seed = hashlib.sha256(name.encode("utf-8")).digest()
    image = Image.new("RGBA", (width_px, height_px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    # A sum of sines traced left to right reads as a cursive stroke; the seed varies it.
    amplitudes = [0.22 + seed[i] / 255 * 0.18 for i in range(3)]
    frequencies = [1.5 + seed[3 + i] / 255 * 3.5 for i in range(3)]
    phases = [seed[6 + i] / 255 * math.tau for i in range(3)]
    points = []
    steps = 400
    for step in range(steps + 1):
        t = step / steps
        x = 0.06 + 0.88 * t + 0.035 * math.sin(t * math.tau * 7 + phases[0])
        y = 0.5
        for amplitude, frequency, phase in zip(amplitudes, frequencies, phases, strict=True):
            y += amplitude * 0.45 * math.sin(t * math.tau * frequency + phase) * (1 - 0.5 * t)
        points.append((x * width_px, y * height_px))
    for index in range(len(points) - 1):
        t = index / steps
        stroke = max(2, round(height_px / 40 * (1.3 - abs(0.5 - t))))
        draw.line([points[index], points[index + 1]], fill=(*SIGNATURE_BLUE, 255), width=stroke)
    # The underline flourish every Vietnamese official signature seems to end with.
    draw.line(
        [(width_px * 0.18, height_px * 0.82), (width_px * 0.86, height_px * 0.74)],
        fill=(*SIGNATURE_BLUE, 255),
        width=max(2, height_px // 60),
    )
    return _png_bytes(image)


def round_seal_png(agency_name: str, agency_code: str, diameter_px: int = 425) -> bytes:
    """Return a PNG (RGBA, transparent) of a red round seal with ``agency_name`` on the rim."""
    scale = diameter_px / 425
    image = Image.new("RGBA", (diameter_px, diameter_px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (*SEAL_RED, 235)
    centre = diameter_px / 2
    outer = centre - 4 * scale
    draw.ellipse(
        [centre - outer, centre - outer, centre + outer, centre + outer],
        outline=red,
        width=round(9 * scale),
    )
    inner = outer * 0.70
    draw.ellipse(
        [centre - inner, centre - inner, centre + inner, centre + inner],
        outline=red,
        width=round(4 * scale),
    )
    _draw_star(draw, centre, centre, inner * 0.42, red)
    text = agency_name.upper()
    font = ImageFont.truetype(BOLD_SANS, max(8, round(26 * scale)))
    radius = (outer + inner) / 2
    # Letters run clockwise along the rim, centred on the top (270° in image coordinates).
    advance = [font.getlength(char) + 1.5 * scale for char in text]
    span = sum(advance) / radius
    span = min(span, math.radians(330))
    angle = -math.pi / 2 - span / 2
    per_radian = span / max(sum(advance), 1)
    for char, char_advance in zip(text, advance, strict=True):
        half = char_advance * per_radian / 2
        angle += half
        glyph = Image.new("RGBA", (round(40 * scale), round(40 * scale)), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), char, font=font, fill=red, anchor="mm"
        )
        rotated = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = centre + radius * math.cos(angle) - rotated.width / 2
        y = centre + radius * math.sin(angle) - rotated.height / 2
        image.alpha_composite(rotated, (round(x), round(y)))
        angle += half
    code_font = ImageFont.truetype(BOLD_SANS, max(6, round(18 * scale)))
    draw.text((centre, centre + inner * 0.62), agency_code, font=code_font, fill=red, anchor="mm")
    return _png_bytes(image)


def _draw_star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float, fill) -> None:
    points = []
    for index in range(10):
        r = radius if index % 2 == 0 else radius * 0.4
        angle = -math.pi / 2 + index * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=fill)


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@dataclass(frozen=True)
class EncodedImage:
    """An RGBA image split and Flate-compressed once: colour stream plus soft mask."""

    width: int
    height: int
    rgb_flate: bytes
    alpha_flate: bytes

    @classmethod
    def from_png(cls, png: bytes) -> EncodedImage:
        image = Image.open(io.BytesIO(png)).convert("RGBA")
        alpha = image.split()[-1]
        return cls(
            width=image.width,
            height=image.height,
            rgb_flate=zlib.compress(image.convert("RGB").tobytes(), 6),
            alpha_flate=zlib.compress(alpha.tobytes(), 6),
        )


class EncodedImageContent(PdfContent):
    """pyHanko content drawing a pre-encoded image over the whole box."""

    def __init__(self, image: EncodedImage, box: BoxConstraints | None = None) -> None:
        super().__init__(box=box or BoxConstraints(image.width, image.height))
        self.image = image

    def _stream(self, data: bytes, colour_space: str, smask=None) -> generic.StreamObject:
        dictionary = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Image"),
                pdf_name("/Width"): generic.NumberObject(self.image.width),
                pdf_name("/Height"): generic.NumberObject(self.image.height),
                pdf_name("/ColorSpace"): pdf_name(colour_space),
                pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
            }
        )
        if smask is not None:
            dictionary[pdf_name("/SMask")] = smask
        return generic.StreamObject(dictionary, encoded_data=data)

    def render(self) -> bytes:
        assert self.writer is not None
        smask_ref = self.writer.add_object(self._stream(self.image.alpha_flate, "/DeviceGray"))
        image_ref = self.writer.add_object(
            self._stream(self.image.rgb_flate, "/DeviceRGB", smask_ref)
        )
        self.set_resource(category=ResourceType.XOBJECT, name=pdf_name("/Im0"), value=image_ref)
        if not self.box.width_defined:
            self.box.width = self.image.width
        if not self.box.height_defined:
            self.box.height = self.image.height
        return b"q %g 0 0 %g 0 0 cm /Im0 Do Q" % (self.box.width, self.box.height)
