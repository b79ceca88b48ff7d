"""Certificates: the demo PKI for test and development, and the CLI around it (``vva pki``).

The trust decision itself (chain, validity, CRL, key usage, OIN) lives in
``broker.edukoppeling.trust_store``; this package only makes and shows certificates. Everything it makes
is FICTIONAL: every CA and party name carries "(FICTIEF)" and production refuses a demo CA.
"""
