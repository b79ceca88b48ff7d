"""vva-broker: the national Edukoppeling message broker for early MBO registration."""

# First, before anything can import spyne: makes spyne 2.14.0 import on Python 3.12 and 3.13
# (broker/spyne_compat.py says what it patches and when it can go).
from broker import spyne_compat  # noqa: F401  isort: skip

__version__ = "0.1.0"
