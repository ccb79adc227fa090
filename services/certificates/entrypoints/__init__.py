"""Entry points of the certificates package (CLI)."""
