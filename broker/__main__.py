"""``python -m broker`` = the ``vva`` command."""

from broker.cli import main

main()
