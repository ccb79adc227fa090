"""Vietnamese lunisolar calendar (âm lịch) → Gregorian dates.

Used to derive and check the lunar public holidays in ``data/holidays_vn.json`` (Tết Nguyên
đán = 1/1 âm lịch, Giỗ Tổ Hùng Vương = 10/3 âm lịch). The algorithm is Hồ Ngọc Đức's widely
used one ("Thuật toán tính âm lịch"): new moons from Jean Meeus' *Astronomical Algorithms*
series truncated as in his code, sun longitude for the solar terms, all in the UTC+7 zone —
Vietnam's calendar has used UTC+7 since 1968, which is why Tết sometimes differs by a day from
the Chinese one (UTC+8). Accurate for 1800–2199, which is far more than the years needed.
"""

from __future__ import annotations

import math
from datetime import date

VIETNAM_UTC_OFFSET_HOURS = 7.0
_SYNODIC_MONTH = 29.530588853
_EPOCH_NEW_MOON = 2415021.076998695  # JD of the new moon of 1900-01-01


def _jd_from_date(day: int, month: int, year: int) -> int:
    a = (14 - month) // 12
    y = year + 4800 - a
    m = month + 12 * a - 3
    jd = day + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045
    if jd < 2299161:
        jd = day + (153 * m + 2) // 5 + 365 * y + y // 4 - 32083
    return jd


def _date_from_jd(jd: int) -> date:
    if jd > 2299160:
        a = jd + 32044
        b = (4 * a + 3) // 146097
        c = a - (b * 146097) // 4
    else:
        b = 0
        c = jd + 32082
    d = (4 * c + 3) // 1461
    e = c - (1461 * d) // 4
    m = (5 * e + 2) // 153
    day = e - (153 * m + 2) // 5 + 1
    month = m + 3 - 12 * (m // 10)
    year = b * 100 + d - 4800 + m // 10
    return date(year, month, day)


def _new_moon(k: int) -> float:
    """Julian day (fractional, UT) of the k-th new moon after 1900-01-01."""
    t = k / 1236.85
    t2 = t * t
    t3 = t2 * t
    dr = math.pi / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3
    c1 = (0.1734 - 0.000393 * t) * math.sin(m * dr) + 0.0021 * math.sin(2 * dr * m)
    c1 = c1 - 0.4068 * math.sin(mpr * dr) + 0.0161 * math.sin(dr * 2 * mpr)
    c1 = c1 - 0.0004 * math.sin(dr * 3 * mpr)
    c1 = c1 + 0.0104 * math.sin(dr * 2 * f) - 0.0051 * math.sin(dr * (m + mpr))
    c1 = c1 - 0.0074 * math.sin(dr * (m - mpr)) + 0.0004 * math.sin(dr * (2 * f + m))
    c1 = c1 - 0.0004 * math.sin(dr * (2 * f - m)) - 0.0006 * math.sin(dr * (2 * f + mpr))
    c1 = c1 + 0.0010 * math.sin(dr * (2 * f - mpr)) + 0.0005 * math.sin(dr * (2 * mpr + m))
    if t < -11:
        delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - delta_t


def _sun_longitude(jdn: float) -> float:
    """Sun's apparent longitude in radians (0..2π) at Julian day ``jdn`` (UT)."""
    t = (jdn - 2451545.0) / 36525
    t2 = t * t
    dr = math.pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(dr * m)
    dl += (0.019993 - 0.000101 * t) * math.sin(dr * 2 * m) + 0.000290 * math.sin(dr * 3 * m)
    longitude = (l0 + dl) * dr
    return longitude - math.pi * 2 * math.floor(longitude / (math.pi * 2))


def _new_moon_day(k: int, tz: float) -> int:
    return math.floor(_new_moon(k) + 0.5 + tz / 24)


def _sun_longitude_sector(day_number: int, tz: float) -> int:
    """Which of the 12 30° sectors the sun is in at the start of local day ``day_number``."""
    return math.floor(_sun_longitude(day_number - 0.5 - tz / 24) / math.pi * 6)


def _lunar_month_11(year: int, tz: float) -> int:
    """Day number of the start of the 11th lunar month (the one holding the winter solstice)."""
    offset = _jd_from_date(31, 12, year) - 2415021
    k = math.floor(offset / _SYNODIC_MONTH)
    new_moon = _new_moon_day(k, tz)
    if _sun_longitude_sector(new_moon, tz) >= 9:
        new_moon = _new_moon_day(k - 1, tz)
    return new_moon


def _leap_month_offset(month_11_start: int, tz: float) -> int:
    k = math.floor((month_11_start - _EPOCH_NEW_MOON) / _SYNODIC_MONTH + 0.5)
    i = 1
    arc = _sun_longitude_sector(_new_moon_day(k + i, tz), tz)
    while True:
        last = arc
        i += 1
        arc = _sun_longitude_sector(_new_moon_day(k + i, tz), tz)
        if arc == last or i >= 14:
            break
    return i - 1


def lunar_to_solar(
    lunar_day: int,
    lunar_month: int,
    lunar_year: int,
    leap_month: bool = False,
    tz: float = VIETNAM_UTC_OFFSET_HOURS,
) -> date:
    """The Gregorian date of ``lunar_day``/``lunar_month`` of lunar year ``lunar_year``.

    ``lunar_year`` is the Gregorian year in which the lunar year begins (Tết 2026 is
    ``lunar_to_solar(1, 1, 2026)``). Raises ``ValueError`` for a leap month that year lacks.
    """
    if not 1 <= lunar_month <= 12 or not 1 <= lunar_day <= 30:
        raise ValueError(f"lunar date {lunar_day}/{lunar_month} does not exist")
    if lunar_month < 11:
        a11 = _lunar_month_11(lunar_year - 1, tz)
        b11 = _lunar_month_11(lunar_year, tz)
    else:
        a11 = _lunar_month_11(lunar_year, tz)
        b11 = _lunar_month_11(lunar_year + 1, tz)
    k = math.floor(0.5 + (a11 - _EPOCH_NEW_MOON) / _SYNODIC_MONTH)
    offset = lunar_month - 11
    if offset < 0:
        offset += 12
    if b11 - a11 > 365:
        leap_offset = _leap_month_offset(a11, tz)
        leap = leap_offset - 2
        if leap < 0:
            leap += 12
        if leap_month and lunar_month != leap:
            raise ValueError(f"lunar year {lunar_year} has no leap month {lunar_month}")
        if leap_month or offset >= leap_offset:
            offset += 1
    elif leap_month:
        raise ValueError(f"lunar year {lunar_year} has no leap month")
    month_start = _new_moon_day(k + offset, tz)
    return _date_from_jd(month_start + lunar_day - 1)


def lunar_new_year(year: int) -> date:
    """Mùng 1 Tết of the lunar year beginning in Gregorian ``year``."""
    return lunar_to_solar(1, 1, year)


def lunar_new_year_eve(year: int) -> date:
    """The last day of the lunar year that ends just before Tết ``year`` (29 or 30 Tết)."""
    return date.fromordinal(lunar_new_year(year).toordinal() - 1)


def hung_kings_day(year: int) -> date:
    """Giỗ Tổ Hùng Vương, 10/3 âm lịch."""
    return lunar_to_solar(10, 3, year)
