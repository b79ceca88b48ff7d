"""Namespace URIs. Elements are always matched on (URI, local name), never on a prefix."""

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
WSA = "http://www.w3.org/2005/08/addressing"
WSA_OLD = (
    "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "http://schemas.xmlsoap.org/ws/2004/03/addressing",
)
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
XINCLUDE = "http://www.w3.org/2001/XInclude"
WSA_ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
WSA_NONE = "http://www.w3.org/2005/08/addressing/none"
WSA_FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"


def q(ns: str, name: str) -> str:
    """Clark notation ``{ns}naam`` as lxml uses for tags."""
    return f"{{{ns}}}{name}"
