"""Generate the demo province "Tỉnh Lạc Hồng": ``demo_province.json`` and ``demo_province.csv``.

ILLUSTRATIVE DATA, NOT THE OFFICIAL DIRECTORY. Lạc Hồng is a fictional province; the names,
addresses, telephone numbers and e-mail addresses are made up (Vietnamese place names repeat
across the country, so some will coincide with real places). Its shape follows the state
apparatus after the 2025 reform: a People's Committee, its office, the post-merger set of
departments (Sở), the former districts dissolved on 2025-07-01 (the district level was
removed), communes and wards answering directly to the province, public service units under
the departments, and schools and health stations under the communes.

Agency codes (QCVN 102:2016/BTTTT): ``AAA.BB.CC.H56``; ``H56`` is the province (level 1),
``CC`` a level-2 unit (department, office, former district), ``BB`` a level-3 unit, ``AAA`` a
level-4 unit. Communes keep level-3 codes under their former district's ``CC`` group but have
the province committee as ``parent_code``: the tree is data, the code is only an identifier.
``level`` is the code's structural level (1–4).

``kind`` vocabulary (the identifiers service's ``KNOWN_KINDS``): province, office,
department (Sở, Ban, Thanh tra, Chi cục — administrative bodies), district (former huyện, thị
xã, thành phố; dissolved), commune (xã), ward (phường), special_zone (đặc khu), public_unit
(đơn vị sự nghiệp), school, health_station, other. ``status``: active, dissolved, merged.

Deterministic: a fixed seed and fixed lists, so re-running gives byte-identical files.
Usage::

    .venv/bin/python services/identifiers/data/generate_demo_province.py          # write
    .venv/bin/python services/identifiers/data/generate_demo_province.py --check  # compare
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

SEED = 56
PROVINCE_GROUP = "H56"
DOMAIN = "lachong.gov.vn"
AREA_CODE = "0216"
REFORM_DATE = "2025-07-01"  # district level removed, communes re-formed (two-level government)
DEPARTMENT_MERGER_DATE = "2025-03-01"  # merged departments started work
PROVINCE_NAME = "Ủy ban nhân dân tỉnh Lạc Hồng"
CAPITAL_WARD = "phường Văn Lang"
OUT_DIR = Path(__file__).resolve().parent
JSON_NAME = "demo_province.json"
CSV_NAME = "demo_province.csv"

COLUMNS = (
    "code", "name", "abbreviation", "parent_code", "level", "kind", "organization_in_charge",
    "address", "email", "telephone", "fax", "website", "status", "status_effective_from",
    "merged_into", "exchanges_electronically",
)  # fmt: skip


@dataclass
class Agency:
    code: str
    name: str
    abbreviation: str
    parent_code: str | None
    level: int
    kind: str
    organization_in_charge: str
    address: str
    email: str
    telephone: str
    fax: str | None
    website: str | None
    status: str = "active"
    status_effective_from: str | None = None
    merged_into: str | None = None
    exchanges_electronically: bool = True

    def record(self) -> dict[str, object]:
        # Missing text is "" and missing codes/dates are null, as the identifiers service's
        # own export writes them, so that an import-export round trip is byte-identical.
        record = {column: getattr(self, column) for column in COLUMNS}
        for text_column in ("fax", "website"):
            record[text_column] = record[text_column] or ""
        return record


# Level-2 units under the province committee: (group, name, abbreviation, kind, merged 2025-03).
DEPARTMENTS = [
    ("01", "Văn phòng Ủy ban nhân dân tỉnh", "VP", "office", False),
    ("02", "Sở Nội vụ", "SNV", "department", True),
    ("03", "Sở Tài chính", "STC", "department", True),
    ("04", "Sở Tư pháp", "STP", "department", False),
    ("05", "Sở Khoa học và Công nghệ", "SKHCN", "department", True),
    ("06", "Sở Xây dựng", "SXD", "department", True),
    ("07", "Sở Nông nghiệp và Môi trường", "SNNMT", "department", True),
    ("08", "Sở Y tế", "SYT", "department", False),
    ("09", "Sở Giáo dục và Đào tạo", "SGDĐT", "department", False),
    ("10", "Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", "department", False),
    ("11", "Sở Công Thương", "SCT", "department", False),
    ("12", "Sở Dân tộc và Tôn giáo", "SDTTG", "department", True),
    ("13", "Sở Ngoại vụ", "SNgV", "department", False),
    # "TTr" would collide with the abbreviation of Tờ trình in symbols; provinces use "TTT".
    ("14", "Thanh tra tỉnh", "TTT", "department", True),
    ("15", "Ban Quản lý các khu công nghiệp tỉnh", "BQLKCN", "department", False),
    ("16", "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh", "VPĐĐBQHHĐND",
     "office", False),
    ("17", "Ban Quản lý dự án đầu tư xây dựng tỉnh", "BQLDA", "public_unit", False),
    ("18", "Báo và Phát thanh, Truyền hình Lạc Hồng", "BPTTH", "public_unit", True),
    ("19", "Quỹ Đầu tư phát triển tỉnh", "QĐTPT", "public_unit", False),
    ("20", "Trường Cao đẳng Kỹ thuật Lạc Hồng", "CĐKT", "public_unit", False),
    ("21", "Liên minh Hợp tác xã tỉnh", "LMHTX", "other", False),
]  # fmt: skip

# Former districts (level 2, dissolved 2025-07-01): group, kind word, name, has wards.
DISTRICTS = [
    ("31", "thành phố", "Văn Lang", True),
    ("32", "thị xã", "Phú Thịnh", True),
    ("33", "huyện", "Tiên Phong", False),
    ("34", "huyện", "Vĩnh Khang", False),
    ("35", "huyện", "Hòa Thuận", False),
    ("36", "huyện", "Đức Long", False),
    ("37", "huyện", "Thạch Bàn", False),
    ("38", "huyện", "Yên Hòa", False),
]
COMMUNES_PER_DISTRICT = 16
MERGED_PER_DISTRICT = (2, 2, 1, 2, 1, 2, 1, 1)  # 12 merged communes in all

WARD_NAMES = [
    "Văn Lang", "Quang Trung", "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hoàng Văn Thụ",
    "Trần Phú", "Lý Thường Kiệt", "Hai Bà Trưng", "Phan Chu Trinh", "Ngô Quyền", "Hùng Vương",
    "Lê Hồng Phong", "Nguyễn Du", "Bạch Đằng", "Chi Lăng", "Phú Thịnh", "Đống Đa", "Ba Đình",
    "Tân Bình", "Thống Nhất", "Độc Lập", "Minh Khai", "Đông Kinh", "Kỳ Lừa", "Hồng Hà",
    "Nam Thành", "Bắc Thành", "Trung Thành", "Phú Lâm", "Phú Hòa", "Phú Xuân",
]  # fmt: skip
COMMUNE_PREFIXES = [
    "Tân", "An", "Phú", "Vĩnh", "Hòa", "Bình", "Đông", "Tây", "Nam", "Bắc", "Xuân", "Thanh",
    "Hưng", "Minh", "Đức", "Kim", "Yên", "Long", "Quảng", "Mỹ", "Hợp", "Đại", "Cẩm", "Thái",
]  # fmt: skip
COMMUNE_SUFFIXES = [
    "Lập", "Phú", "Thịnh", "Hưng", "Lợi", "Thành", "Sơn", "Hòa", "Bình", "Lộc", "Phong",
    "Tiến", "Long", "An", "Xuân", "Mỹ", "Tân", "Đồng", "Khê", "Trung",
]  # fmt: skip
STREETS = [
    "Hùng Vương", "Trần Hưng Đạo", "Lê Lợi", "Quang Trung", "Nguyễn Trãi", "Lý Thái Tổ",
    "Nguyễn Huệ", "Phan Đình Phùng", "Lê Duẩn", "Võ Nguyên Giáp", "Trường Chinh", "Hai Bà Trưng",
]  # fmt: skip
VILLAGE_WORDS = ["Thôn Trung", "Thôn Đông", "Thôn Chợ", "Khu phố 1", "Khu phố 2", "Thôn Đình"]

# Public service units and Chi cục under departments: group → [(name, kind)].
# "{district}" expands to one unit per former district.
UNITS: dict[str, list[tuple[str, str]]] = {
    "01": [
        ("Trung tâm Phục vụ hành chính công tỉnh", "public_unit"),
        ("Trung tâm Thông tin - Công báo tỉnh", "public_unit"),
        ("Nhà khách Ủy ban nhân dân tỉnh", "public_unit"),
    ],
    "02": [
        ("Ban Thi đua - Khen thưởng", "department"),
        ("Trung tâm Lưu trữ lịch sử tỉnh", "public_unit"),
        ("Trung tâm Dịch vụ việc làm", "public_unit"),
        ("Trung tâm Đào tạo, bồi dưỡng cán bộ, công chức", "public_unit"),
    ],
    "03": [
        ("Trung tâm Xúc tiến đầu tư", "public_unit"),
        ("Trung tâm Thông tin và Dịch vụ tài chính công", "public_unit"),
    ],
    "04": [
        ("Trung tâm Trợ giúp pháp lý nhà nước", "public_unit"),
        ("Phòng Công chứng số 1", "public_unit"),
        ("Phòng Công chứng số 2", "public_unit"),
        ("Trung tâm Dịch vụ đấu giá tài sản", "public_unit"),
    ],
    "05": [
        ("Trung tâm Chuyển đổi số", "public_unit"),
        ("Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng", "public_unit"),
        ("Trung tâm Ứng dụng tiến bộ khoa học và công nghệ", "public_unit"),
        ("Trung tâm Giám sát, điều hành đô thị thông minh", "public_unit"),
    ],
    "06": [
        ("Trung tâm Quy hoạch và Kiểm định xây dựng", "public_unit"),
        ("Trung tâm Đăng kiểm xe cơ giới", "public_unit"),
        ("Cảng vụ Đường thủy nội địa", "public_unit"),
        ("Ban Quản lý bảo trì đường bộ", "public_unit"),
        ("Trung tâm Quản lý và Khai thác bến xe khách", "public_unit"),
    ],
    "07": [
        ("Chi cục Kiểm lâm", "department"),
        ("Chi cục Thủy lợi", "department"),
        ("Chi cục Trồng trọt và Bảo vệ thực vật", "department"),
        ("Chi cục Chăn nuôi, Thú y và Thủy sản", "department"),
        ("Chi cục Quản lý đất đai", "department"),
        ("Trung tâm Khuyến nông", "public_unit"),
        ("Văn phòng Đăng ký đất đai", "public_unit"),
        ("Trung tâm Quan trắc tài nguyên và môi trường", "public_unit"),
        ("Trung tâm Phát triển quỹ đất", "public_unit"),
        ("Trung tâm Nước sạch và Vệ sinh môi trường nông thôn", "public_unit"),
        ("Ban Quản lý rừng phòng hộ Thạch Bàn", "public_unit"),
        ("Ban Quản lý cảng cá", "public_unit"),
    ],
    "08": [
        ("Bệnh viện Đa khoa tỉnh", "public_unit"),
        ("Bệnh viện Y dược cổ truyền", "public_unit"),
        ("Bệnh viện Sản - Nhi", "public_unit"),
        ("Bệnh viện Phổi", "public_unit"),
        ("Bệnh viện Tâm thần", "public_unit"),
        ("Bệnh viện Mắt", "public_unit"),
        ("Bệnh viện Phục hồi chức năng", "public_unit"),
        ("Trung tâm Kiểm soát bệnh tật", "public_unit"),
        ("Trung tâm Pháp y", "public_unit"),
        ("Trung tâm Giám định y khoa", "public_unit"),
        ("Trung tâm Kiểm nghiệm thuốc, mỹ phẩm, thực phẩm", "public_unit"),
        ("Trung tâm Cấp cứu 115", "public_unit"),
        ("Trung tâm Công tác xã hội", "public_unit"),
        ("Chi cục Dân số", "department"),
        ("Chi cục An toàn vệ sinh thực phẩm", "department"),
        ("Trung tâm Y tế khu vực {district}", "public_unit"),
    ],
    "09": [
        ("Trường THPT chuyên Văn Lang", "school"),
        ("Trường THPT Chu Văn An", "school"),
        ("Trường THPT Lê Quý Đôn", "school"),
        ("Trường THPT Nguyễn Du", "school"),
        ("Trường THPT Trần Hưng Đạo", "school"),
        ("Trường THPT Lương Thế Vinh", "school"),
        ("Trường THPT Phan Bội Châu", "school"),
        ("Trường THPT Nguyễn Huệ", "school"),
        ("Trường THPT Lê Hồng Phong", "school"),
        ("Trường THPT Hùng Vương", "school"),
        ("Trường THPT Ngô Gia Tự", "school"),
        ("Trường THPT Nguyễn Thị Minh Khai", "school"),
        ("Trường Phổ thông Dân tộc nội trú tỉnh", "school"),
        ("Trường THPT {district}", "school"),
        ("Trung tâm Giáo dục thường xuyên tỉnh", "public_unit"),
        (
            "Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên khu vực {district}",
            "public_unit",
        ),
    ],
    "10": [
        ("Bảo tàng tỉnh", "public_unit"),
        ("Thư viện tỉnh", "public_unit"),
        ("Trung tâm Văn hóa - Điện ảnh tỉnh", "public_unit"),
        ("Nhà hát Nghệ thuật truyền thống", "public_unit"),
        ("Trung tâm Huấn luyện và Thi đấu thể thao", "public_unit"),
        ("Trung tâm Thông tin và Xúc tiến du lịch", "public_unit"),
        ("Ban Quản lý di tích và danh thắng", "public_unit"),
        ("Đoàn Nghệ thuật dân tộc", "public_unit"),
    ],
    "11": [
        ("Trung tâm Khuyến công và Xúc tiến thương mại", "public_unit"),
        ("Ban Quản lý các chợ đầu mối", "public_unit"),
    ],
    "12": [("Trung tâm Bồi dưỡng công tác dân tộc", "public_unit")],
    "13": [("Trung tâm Dịch vụ đối ngoại", "public_unit")],
    "15": [("Trung tâm Dịch vụ hỗ trợ doanh nghiệp khu công nghiệp", "public_unit")],
}

# Level-4 units of a commune: (name pattern, kind, e-mail prefix).
COMMUNE_UNITS = [
    ("Trường Mầm non {place}", "school", "mn"),
    ("Trường Tiểu học {place}", "school", "th"),
    ("Trạm Y tế {where}", "health_station", "tyt"),
]
COMMUNES_WITH_UNITS = 26


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def ascii_slug(text: str) -> str:
    """``"Tân Lập"`` → ``"tanlap"`` (for e-mail and web addresses)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in stripped.lower() if ch.isalnum())


_SMALL_WORDS = {"và", "các", "số", "-", "của"}


def initials(name: str) -> str:
    """Abbreviation from a unit name: ``"Trung tâm Kiểm soát bệnh tật"`` → ``"TTKSBT"``.

    As in practice: "Ủy ban nhân dân" is UBND, all-capital words (``THPT``) and numbers are
    kept whole, small words and a leading "Trường" are skipped, and letters lose their diacritics
    except Đ (``"Trường THPT Chu Văn An"`` → ``"THPTCVA"``).
    """
    letters: list[str] = []
    text = name.replace("Ủy ban nhân dân", "UBND").replace(",", " ")
    for position, word in enumerate(text.split()):
        if word.lower() in _SMALL_WORDS or (position == 0 and word == "Trường"):
            continue
        if word.isupper() or word.isdigit():
            letters.append(word)
        else:
            letters.append(word[0].upper())
    joined = "".join(letters)
    plain = "".join(ch if ch == "Đ" else unicodedata.normalize("NFD", ch)[0] for ch in joined)
    return plain[:20]


class Builder:
    def __init__(self) -> None:
        self.random = random.Random(SEED)
        self.agencies: list[Agency] = []
        self.by_code: dict[str, Agency] = {}
        self.emails: set[str] = set()
        self.phones: set[str] = set()

    def phone(self) -> str:
        while True:
            digits = f"3{self.random.randint(0, 999_999):06d}"
            number = f"{AREA_CODE} {digits[:3]} {digits[3:]}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def email(self, local: str) -> str:
        candidate, counter = f"{local}@{DOMAIN}", 2
        while candidate in self.emails:
            candidate, counter = f"{local}{counter}@{DOMAIN}", counter + 1
        self.emails.add(candidate)
        return candidate

    def add(self, agency: Agency) -> Agency:
        if agency.code in self.by_code:
            raise ValueError(f"duplicate code {agency.code}")
        agency.name = nfc(agency.name)
        agency.address = nfc(agency.address)
        agency.organization_in_charge = nfc(agency.organization_in_charge)
        agency.abbreviation = nfc(agency.abbreviation)
        self.agencies.append(agency)
        self.by_code[agency.code] = agency
        return agency

    def provincial_address(self) -> str:
        street = self.random.choice(STREETS)
        return f"Số {self.random.randint(1, 320)} đường {street}, {CAPITAL_WARD}, tỉnh Lạc Hồng"

    def build(self) -> list[Agency]:
        province = self.add(
            Agency(
                code=f"000.00.00.{PROVINCE_GROUP}",
                name=PROVINCE_NAME,
                abbreviation="UBND",
                parent_code=None,
                level=1,
                kind="province",
                # The root answers to itself, as the edXML samples do for Văn phòng Chính phủ.
                organization_in_charge=PROVINCE_NAME,
                address=f"Số 1 đường Hùng Vương, {CAPITAL_WARD}, tỉnh Lạc Hồng",
                email=self.email("ubnd"),
                telephone=self.phone(),
                fax=self.phone(),
                website=f"https://{DOMAIN}",
            )
        )
        departments = {}
        for group, name, abbreviation, kind, merged_2025 in DEPARTMENTS:
            departments[group] = self.add(
                Agency(
                    code=f"000.00.{group}.{PROVINCE_GROUP}",
                    name=name,
                    abbreviation=abbreviation,
                    parent_code=province.code,
                    level=2,
                    kind=kind,
                    organization_in_charge=province.name,
                    address=self.provincial_address(),
                    email=self.email(ascii_slug(abbreviation)),
                    telephone=self.phone(),
                    fax=self.phone(),
                    website=f"https://{ascii_slug(abbreviation)}.{DOMAIN}",
                    status_effective_from=DEPARTMENT_MERGER_DATE if merged_2025 else None,
                )
            )
        communes = self.build_districts_and_communes(province)
        self.build_units(departments)
        self.build_commune_units(communes)
        return self.agencies

    def commune_names(self) -> list[str]:
        combos = [f"{p} {s}" for p in COMMUNE_PREFIXES for s in COMMUNE_SUFFIXES if p != s]
        self.random.shuffle(combos)
        return [c for c in combos if c not in WARD_NAMES]

    def build_districts_and_communes(self, province: Agency) -> list[Agency]:
        ward_names = iter(WARD_NAMES)
        commune_names = iter(self.commune_names())
        active_communes: list[Agency] = []
        for (group, word, place, urban), merged_count in zip(
            DISTRICTS, MERGED_PER_DISTRICT, strict=True
        ):
            seat = f"{'phường' if urban else 'thị trấn'} {place}"
            self.add(
                Agency(
                    code=f"000.00.{group}.{PROVINCE_GROUP}",
                    name=f"Ủy ban nhân dân {word} {place}",
                    abbreviation="UBND",
                    parent_code=province.code,
                    level=2,
                    kind="district",
                    organization_in_charge=province.name,
                    address=f"Số 1 đường {self.random.choice(STREETS)}, {seat}, {word} {place}, "
                    "tỉnh Lạc Hồng",
                    email=self.email(f"{ascii_slug(word)}.{ascii_slug(place)}"),
                    telephone=self.phone(),
                    fax=self.phone(),
                    website=None,
                    status="dissolved",
                    status_effective_from=REFORM_DATE,
                    exchanges_electronically=False,
                )
            )
            members: list[Agency] = []
            for index in range(1, COMMUNES_PER_DISTRICT + 1):
                # A city's or town's units are wards; the last unit of Yên Hòa is an island.
                if urban:
                    kind, word_of_kind, name = "ward", "phường", next(ward_names)
                elif group == "38" and index == COMMUNES_PER_DISTRICT:
                    kind, word_of_kind, name = "special_zone", "đặc khu", "Hòn Ngọc"
                else:
                    kind, word_of_kind, name = "commune", "xã", next(commune_names)
                where = f"{word_of_kind} {name}"
                members.append(
                    self.add(
                        Agency(
                            code=f"000.{index:02d}.{group}.{PROVINCE_GROUP}",
                            name=f"Ủy ban nhân dân {where}",
                            abbreviation="UBND",
                            # Two-level government since 2025-07-01: communes answer to the
                            # province committee; the code still shows the former district.
                            parent_code=province.code,
                            level=3,
                            kind=kind,
                            organization_in_charge=province.name,
                            address=f"{self.random.choice(VILLAGE_WORDS)}, {where}, tỉnh Lạc Hồng",
                            email=self.email(f"ubnd.{ascii_slug(name)}"),
                            telephone=self.phone(),
                            fax=self.phone() if self.random.random() < 0.3 else None,
                            website=f"https://{ascii_slug(name)}.{DOMAIN}",
                            status_effective_from=REFORM_DATE,
                        )
                    )
                )
            # The last communes of the list were merged into the first one of the district
            # (the island special zone stays on its own).
            target = members[0]
            candidates = [m for m in members if m.kind != "special_zone"]
            for merged in candidates[-merged_count:]:
                merged.status = "merged"
                merged.merged_into = target.code
                merged.exchanges_electronically = False
                merged.website = None
            active_communes.extend(m for m in members if m.status == "active")
        return active_communes

    def build_units(self, departments: dict[str, Agency]) -> None:
        for group, units in UNITS.items():
            parent = departments[group]
            expanded: list[tuple[str, str]] = []
            for name, kind in units:
                if "{district}" in name:
                    expanded.extend(
                        (name.format(district=place), kind) for _, _, place, _ in DISTRICTS
                    )
                else:
                    expanded.append((name, kind))
            for index, (name, kind) in enumerate(expanded, start=1):
                abbreviation = initials(name)
                self.add(
                    Agency(
                        code=f"000.{index:02d}.{group}.{PROVINCE_GROUP}",
                        name=name,
                        abbreviation=abbreviation,
                        parent_code=parent.code,
                        level=3,
                        kind=kind,
                        organization_in_charge=parent.name,
                        address=self.provincial_address(),
                        email=self.email(
                            f"{ascii_slug(abbreviation)}.{ascii_slug(parent.abbreviation)}"
                        ),
                        telephone=self.phone(),
                        fax=self.phone() if self.random.random() < 0.5 else None,
                        website=None
                        if self.random.random() < 0.4
                        else f"https://{ascii_slug(abbreviation)}.{DOMAIN}",
                        exchanges_electronically=self.random.random() < 0.95,
                    )
                )

    def build_commune_units(self, communes: list[Agency]) -> None:
        chosen = sorted(self.random.sample(communes, COMMUNES_WITH_UNITS), key=lambda a: a.code)
        for commune in chosen:
            where = commune.name.removeprefix("Ủy ban nhân dân ")
            place = where.split(" ", 1)[1] if where.startswith(("xã ", "phường ")) else where
            if where.startswith("đặc khu "):
                place = where.removeprefix("đặc khu ")
            suffix = commune.code[3:]
            for index, (pattern, kind, prefix) in enumerate(COMMUNE_UNITS, start=1):
                name = pattern.format(place=place, where=where)
                self.add(
                    Agency(
                        code=f"{index:03d}{suffix}",
                        name=name,
                        abbreviation=initials(name),
                        parent_code=commune.code,
                        level=4,
                        kind=kind,
                        organization_in_charge=commune.name,
                        address=commune.address,
                        email=self.email(f"{prefix}.{ascii_slug(place)}"),
                        telephone=self.phone(),
                        fax=None,
                        website=None,
                        exchanges_electronically=self.random.random() < 0.85,
                    )
                )


def render_json(agencies: list[Agency]) -> str:
    return json.dumps([a.record() for a in agencies], ensure_ascii=False, indent=1) + "\n"


def render_csv(agencies: list[Agency]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for agency in agencies:
        row = agency.record()
        row["exchanges_electronically"] = "true" if agency.exchanges_electronically else "false"
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument(
        "--check", action="store_true", help="fail if the files on disk differ from a fresh run"
    )
    args = parser.parse_args(argv)
    agencies = Builder().build()
    outputs = {JSON_NAME: render_json(agencies), CSV_NAME: render_csv(agencies)}
    if args.check:
        stale = [
            name
            for name, text in outputs.items()
            if not (args.out_dir / name).exists()
            or (args.out_dir / name).read_text(encoding="utf-8") != text
        ]
        if stale:
            print(f"out of date: {', '.join(stale)}; re-run without --check", file=sys.stderr)
            return 1
        print(f"{len(agencies)} agencies, files up to date")
        return 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in outputs.items():
        (args.out_dir / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(agencies)} agencies to {args.out_dir / JSON_NAME} and {CSV_NAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
