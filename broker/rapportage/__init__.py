"""Process and policy information (issue 7): figures computed by the database, the anonymous yearly
aggregates that survive the purge, the trend figures read from them, and the report files.

Entry points for the cycle's end (``vva cycle close``): ``compute_jaarcijfers`` and
``store_jaarcijfers`` in ``broker.rapportage.jaarcijfers``.
"""
