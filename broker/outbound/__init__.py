"""The broker (and its tools) as a SOAP client: zeep plugins and, later, the delivery worker."""
