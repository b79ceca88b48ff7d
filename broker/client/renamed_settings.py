"""Keys of the client's settings file (``vva-client.toml``) that issue 19 renamed from Dutch to
English, old name → new name.

A partner's settings file written before the rename still loads: ``broker.client.settings`` reads an
old key as its new name and logs a warning that names both, so the partner can update the file. A
file that gives both names for one key is refused, because which one wins would be a guess. This is
the client's counterpart of ``broker/renamed_settings.py`` (the broker's own settings).

The old names are written only here and in ``tests/client/test_client_renamed_settings.py``: the
rename tool's part ``scripts/maintenance/rename_to_english.d/85-broker-edges.toml`` rewrites the
keys in ``broker/client/settings.py`` and its tests, not in these two files.
"""

RENAMED_CLIENT_SETTINGS: dict[str, str] = {
    "sleutel": "key",
    "certificaat": "certificate",
    "dienst": "service",
}
