"""Registry service: the system of record for every document an agency issues or receives.

Document records, outgoing numbering and symbols (số, ký hiệu), incoming arrival registration,
register books, processing status and statistics (issue #3). ``domain`` holds the pure rules
of NĐ 30/2020/NĐ-CP and QĐ 28/2018/QĐ-TTg; ``data`` the catalogues and calendars they load.
"""
