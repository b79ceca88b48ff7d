"""The party registry: who is connected, what each party acts for, and who may speak for it.

Parties are loaded from a TOML file or managed with ``vva party``; the broker reads them to authorise
requests (Edukoppeling §5, mandates) and to decide what each party may see (design.md, "Parties and
what they may see").
"""
