"""The root of the broker's exceptions.

Every exception class defined in ``broker/`` derives from ``BrokerError``, so a caller can catch
"anything the broker refuses" in one ``except`` and a reader finds the whole tree from one place
(``broker/edukoppeling/faults.py`` draws it). A class that was a ``ValueError`` before keeps that as
its second base, so every existing ``except ValueError`` still catches it.

This module imports nothing of ours: the domain may import it (the layer contracts in
``pyproject.toml`` allow ``broker.errors`` and nothing else to the domain).
"""

from __future__ import annotations


class BrokerError(Exception):
    """The root of every exception the broker defines."""
