"""Use cases: one function per operation, each working inside one database transaction."""
