"""Reference data from DUO open data: institutions (BRIN4), vestigingen (BRIN6), gemeenten and RMC regions.

``duo`` parses DUO's CSV files without touching the database, ``laden`` upserts the result per cycle,
``cli`` is the ``vva refdata`` command group, and ``demo/`` holds a small fictional data set in DUO's shapes.
"""
