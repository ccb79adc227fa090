"""Where signature appearances go on the page (pure geometry, PDF points, origin bottom-left).

NĐ 30/2020/NĐ-CP Phụ lục I (referred to by QĐ 29/2021/QĐ-UBND Điện Biên Điều 10 khoản 6):

* the authorised person's signature image sits in the signature block, centred between the
  line with the signer's title ("quyền hạn, chức vụ") and the line with the full name;
* the organisation's seal image is "trùm lên khoảng 1/3 hình ảnh chữ ký số của người có
  thẩm quyền về phía bên trái" — it covers about the left third of the person's image;
* for attachments in separate files and for copies, the organisation's signature has no image
  and is placed top right of the first page.
"""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle ``(x0, y0)``–``(x1, y1)`` in PDF points."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            raise ValueError(f"rectangle {self.as_tuple()}: x1/y1 must exceed x0/y0")

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    def overlap_width(self, other: Rect) -> float:
        """Horizontal extent shared with ``other`` (0 when they do not overlap)."""
        return max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))


def person_signature_rect(
    *, block_centre_x: float, title_baseline: float, name_top: float, width: float, height: float
) -> Rect:
    """Centre an image of ``width``×``height`` between the title line and the name line."""
    if title_baseline <= name_top:
        raise ValueError("title_baseline: the title line must be above the name line")
    middle_y = (title_baseline + name_top) / 2
    return Rect(
        block_centre_x - width / 2,
        middle_y - height / 2,
        block_centre_x + width / 2,
        middle_y + height / 2,
    )


def seal_rect(person_rect: Rect, seal_diameter: float) -> Rect:
    """Seal of real size whose right edge covers the left third of the person's image.

    The seal is vertically centred on the person's image, as a stamp on paper is.
    """
    if seal_diameter <= 0:
        raise ValueError("seal_diameter: must be positive")
    right = person_rect.x0 + person_rect.width / 3
    _, centre_y = person_rect.centre
    return Rect(
        right - seal_diameter,
        centre_y - seal_diameter / 2,
        right,
        centre_y + seal_diameter / 2,
    )


def top_right_rect(
    page_width: float, page_height: float, width: float, height: float, margin: float = 15 * MM
) -> Rect:
    """Box in the top right corner of a page (attachments and copies)."""
    return Rect(
        page_width - margin - width,
        page_height - margin - height,
        page_width - margin,
        page_height - margin,
    )
