"""Algorithm and token URIs of WS-Security 1.0/1.1, XML Signature and the X.509 Token Profile.

Only what the 2W-be-S profile accepts (S4, S5; WUS WB007, WB009, WB010;
Beveiliging 2.0 SIGN001–SIGN004). Elements are always matched on (namespace URI, local name).
"""

from __future__ import annotations

#: XML Signature namespace.
DS = "http://www.w3.org/2000/09/xmldsig#"
#: WS-Security 1.1 extension namespace (SignatureConfirmation, S8).
WSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
#: Namespace of ec:InclusiveNamespaces (equal to the exc-c14n algorithm URI).
EC = "http://www.w3.org/2001/10/xml-exc-c14n#"
#: The XML namespace (xml:id).
XML = "http://www.w3.org/XML/1998/namespace"

#: Exclusive XML Canonicalization 1.0 without comments: the only c14n and Transform (WB007, BSP R5404).
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
#: SignatureMethods accepted (SIGN004); the broker emits rsa-sha256.
SIGNATURE_METHODS = frozenset({RSA_SHA256, RSA_SHA384, RSA_SHA512})

SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
#: DigestMethods accepted, with their hashlib names (SIGN001–SIGN003); the broker emits sha256.
DIGEST_METHODS: dict[str, str] = {SHA256: "sha256", SHA384: "sha384", SHA512: "sha512"}

#: BinarySecurityToken / STR Reference ValueType for a single X.509 v3 certificate (X.509 Token Profile).
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
#: BinarySecurityToken EncodingType (SOAP Message Security 1.0).
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
