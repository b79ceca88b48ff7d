"""vva-broker: the national Edukoppeling message broker for early MBO registration."""

__version__ = "0.1.0"
