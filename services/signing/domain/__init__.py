"""Pure signing rules: errors, placement geometry and the hash-chained audit log."""
