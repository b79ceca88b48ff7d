"""The yearly rhythm of the exchange: daily signals, and closing and opening a cycle."""
