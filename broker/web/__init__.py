"""The WSGI application: the one inbound pipeline in front of the spyne services."""
