"""Storage ports (one Protocol per aggregate) and their adapters."""
