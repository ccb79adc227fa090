"""Appearance geometry of NĐ 30/2020/NĐ-CP Phụ lục I."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.signing.domain.placement import (
    Rect,
    person_signature_rect,
    seal_rect,
    top_right_rect,
)


def test_person_image_is_centred_between_title_and_name() -> None:
    rect = person_signature_rect(
        block_centre_x=400, title_baseline=500, name_top=380, width=130, height=52
    )
    assert rect.centre == (400, 440)
    assert rect.y1 < 500 and rect.y0 > 380


def test_title_must_be_above_name() -> None:
    with pytest.raises(ValueError, match="title_baseline"):
        person_signature_rect(
            block_centre_x=0, title_baseline=100, name_top=200, width=10, height=10
        )


@given(
    x0=st.floats(0, 400),
    y0=st.floats(0, 700),
    width=st.floats(30, 200),
    height=st.floats(20, 100),
    diameter=st.floats(70, 130),  # a seal is wider than 1/3 image
)
def test_seal_covers_exactly_the_left_third(x0, y0, width, height, diameter) -> None:  # type: ignore[no-untyped-def]
    person = Rect(x0, y0, x0 + width, y0 + height)
    seal = seal_rect(person, diameter)
    assert seal.width == pytest.approx(diameter)
    assert person.overlap_width(seal) == pytest.approx(width / 3)
    assert seal.x0 < person.x0  # it sticks out to the left
    assert seal.centre[1] == pytest.approx(person.centre[1])


def test_top_right_box_stays_inside_the_page() -> None:
    box = top_right_rect(595, 842, 170, 36)
    assert box.x1 < 595 and box.y1 < 842
    assert box.x0 > 595 / 2 and box.y0 > 842 * 0.8


def test_degenerate_rect_is_refused() -> None:
    with pytest.raises(ValueError, match="x1/y1"):
        Rect(10, 10, 5, 20)
