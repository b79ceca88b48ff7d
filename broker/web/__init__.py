"""The WSGI applications: the one inbound pipeline in front of the spyne services, for the broker and
for the reference receiver."""
