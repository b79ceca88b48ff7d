"""Pure domain layer of the VVA broker: identifiers, result codes, statuses, cycles, visibility (no I/O)."""
