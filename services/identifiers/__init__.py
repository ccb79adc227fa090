"""The identifiers service: the agency directory and the codes of QCVN 102:2016 / QĐ 28/2018."""
