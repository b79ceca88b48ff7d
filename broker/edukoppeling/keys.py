"""The RSA public key of a certificate, decided on its algorithm before any key is loaded.

Only RSA keys sign Edukoppeling messages (S4, H34). The kind of key is read from the certificate's
SubjectPublicKeyInfo algorithm identifier, not by loading the key and looking at its type: cryptography
deprecated DSA (loading a DSA key warns, and a later release will not load one at all), and refusing a
hostile DSA certificate must not depend on whether the library can still parse the key it refuses.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import PublicKeyAlgorithmOID

#: The RSA floor, the one number every check of a key's size uses: verifying a signature, the trust
#: store, the broker's own signer and ``vva pki show`` (H34; PKIoverheid issues nothing smaller).
MIN_RSA_BITS = 2048
#: rsaEncryption and id-RSASSA-PSS: the algorithm identifiers of an RSA SubjectPublicKeyInfo.
_RSA = (PublicKeyAlgorithmOID.RSAES_PKCS1_v1_5, PublicKeyAlgorithmOID.RSASSA_PSS)


def rsa_key(certificate: x509.Certificate) -> rsa.RSAPublicKey | None:
    """The certificate's RSA public key; None for any other algorithm (EC, DSA, EdDSA, an unknown one),
    which is then never loaded. Raises ValueError for an RSA key that does not parse."""
    if certificate.public_key_algorithm_oid not in _RSA:
        return None
    key = certificate.public_key()
    return key if isinstance(key, rsa.RSAPublicKey) else None


def is_ec(certificate: x509.Certificate) -> bool:
    """Whether the certificate holds an elliptic-curve key (read from its algorithm identifier)."""
    return certificate.public_key_algorithm_oid == PublicKeyAlgorithmOID.EC_PUBLIC_KEY
