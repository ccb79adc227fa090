"""Signing service: HSM-backed PAdES signatures of the authorised person and the organisation.

Implements issue #4 (NĐ 30/2020/NĐ-CP Phụ lục I; TT 41/2017/TT-BTTTT): keys live in a PKCS#11
token, the person signs a certification signature, the clerk fills the number and date as an
incremental update, and the organisation seals the document at PAdES B-LTA.
"""
