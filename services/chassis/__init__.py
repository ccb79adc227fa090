"""The service chassis: what every LiênThông service is built on (see docs/adr/0001)."""
