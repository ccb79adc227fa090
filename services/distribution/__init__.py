"""Distribution service: sends, receives, acknowledges, recalls and tracks edXML packages."""
