"""The conformance kit: replay the samples of ``conformance/`` against a broker or a partner's
receiver and compare every answer with the manifest (``vva conformance run``)."""
