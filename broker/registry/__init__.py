"""The party registry: who is connected, what each party acts for, and who may speak for it.

Parties are loaded from a TOML file or managed with ``vva party``; the broker reads them to authorise
requests (mandates, M1–M3) and to decide what each party may see (docs/architecture.md, "Parties
and what they may see").
"""
