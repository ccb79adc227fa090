"""edXML (QCVN 102:2016/BTTTT) codec: parse, build, sign and verify document/status packages."""
