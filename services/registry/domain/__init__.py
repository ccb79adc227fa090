"""Pure rules of the registry (no I/O): NĐ 30/2020/NĐ-CP and QĐ 28/2018/QĐ-TTg.

Modules: ``document_types`` (the 29 types, copy forms), ``classification`` (urgency,
confidentiality, signer authority), ``symbols`` (số/ký hiệu), ``register_books`` (books and the
numbering rule), ``status`` (processing-status state machine), ``record`` (the document
record), ``calendar`` and ``lunar`` (working days, holidays, effective arrival), ``errors``.
"""
