"""Certificates: the development PKI (never production trust) and trust-anchor configuration."""
