"""Settings keys that issue 19 renamed from Dutch to English, old name → new name.

A settings file written before the rename (an operator's, or a tool outside this repository such as
the Java peer's runner in ``../shared/tools/peer-wss4j``) still loads: ``broker.config`` reads an old
key as its new name and logs a warning that names both, so the operator can update the file. A file
that gives both names for one setting is refused, because which one wins would be a guess.

This module is outside ``scripts/maintenance/rename_to_english.toml``'s ``settings_key_files`` on
purpose: the rename tool must not rewrite the old names below.
"""

RENAMED_SETTINGS: dict[str, str] = {
    "profiel": "profile",
    "profielen": "profiles",
    "pki_map": "pki_dir",
    "vertrouwen_ca": "trust_ca",
    "vertrouwen_crl": "trust_crl",
    "crl_gratie_s": "crl_grace_s",
    "onderteken_sleutel": "signing_key",
    "onderteken_certificaat": "signing_certificate",
    "timestamp_max_leeftijd_s": "timestamp_max_age_s",
    "timestamp_toekomst_s": "timestamp_future_s",
    "idempotentie_dagen": "idempotency_days",
    "tls_sleutel": "tls_key",
    "tls_certificaat": "tls_certificate",
    "vertrouwde_proxies": "trusted_proxies",
    "tls_vereist": "tls_required",
    "signaal_voorloop_dagen": "signaal_lead_days",
    "outbox_max_pogingen": "outbox_max_attempts",
    "outbox_basis_s": "outbox_base_s",
    "outbox_max_wacht_s": "outbox_max_wait_s",
    "outbox_bezig_s": "outbox_claim_s",
    "gezondheid_outbox_max_s": "health_outbox_max_s",
    "ontvanger_afzenders": "receiver_senders",
    "conformance_storingen": "conformance_fault_injection",
    "deadline_afwijkingen": "deadline_overrides",
}
