import unicodedata

from services.chassis.text import fold, nfc


def test_fold_makes_search_diacritic_insensitive() -> None:
    assert fold("Ủy ban nhân dân tỉnh Hà Nội") == "uy ban nhan dan tinh ha noi"
    assert fold("ĐẠI HỌC Đà Nẵng") == "dai hoc da nang"
    assert fold("ha noi") in fold("Thành phố Hà Nội")


def test_nfc_unifies_decomposed_input_and_collapses_spaces() -> None:
    decomposed = unicodedata.normalize("NFD", "  Sở   Tài chính ")
    assert decomposed != "Sở Tài chính"
    assert nfc(decomposed) == "Sở Tài chính"
    assert unicodedata.is_normalized("NFC", nfc(decomposed))
