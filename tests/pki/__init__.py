"""Tests of the demo PKI (broker/pki) and the trust store (broker/edukoppeling/trust_store.py)."""
