"""WS-Security for the 2W-be-S profile (S0–S9; H1–H76).

``verification.verify_envelope`` checks an inbound envelope's wsse:Security header: shape (S1), algorithms
(S4), the BinarySecurityToken (S5), reference resolution and coverage (S2, S3), the signature itself
(S7, via python-xmlsec with a key taken only from the BST) and the Timestamp (S6).
``ondertekening.Signer`` signs the broker's own messages the same way (S9, R7).
Certificate trust (chain, CRL, OIN) lives in ``broker.edukoppeling.trust_store``, not here.
"""
