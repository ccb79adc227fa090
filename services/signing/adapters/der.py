"""Minimal DER writing: one tag-length-value, for envelopes assembled from pre-encoded parts."""

from __future__ import annotations


def der_tlv(tag: int, content: bytes) -> bytes:
    """Encode one DER TLV with a single-byte ``tag`` and a definite length."""
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(encoded))) + encoded + content
