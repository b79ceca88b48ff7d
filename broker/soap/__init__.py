"""Spyne services, one per WSDL port type: thin mapping between XML and the service layer."""
