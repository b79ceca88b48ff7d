"""Delivery only: the broker (and its tools) as a SOAP client — zeep plugins, rendering a queued push,
the delivery worker. Pushes are planned by the service layer (``broker.service.pushes``); the reference
receiver is an inbound service (``broker.web.receiver``)."""
