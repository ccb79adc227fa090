"""I/O adapters of the signing service: PKCS#11 token, PDF engine (pyHanko), TSA, images."""
