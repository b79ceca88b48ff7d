"""The Edukoppeling protocol: hardened parsing, envelope, WS-Addressing, faults, the contract."""
