"""``lienthong demo``: the issue #7 scenario driven through the gateway's HTTP API only.

The province's People's Committee (UBND tỉnh Lạc Hồng, 000.00.00.H56) drafts a directive
(Chỉ thị), its chairman signs it, the clerk numbers and seals it, it is sent to 30 agencies of
the province, every arrival is verified and acknowledged (01), some receivers process it
(03 → 04 → 05 → 06), one returns a tampered copy (02, quoting the verification report), and a
second document is recalled (13) and answered 15 and 16. See ``docs/demo.md``.
"""
