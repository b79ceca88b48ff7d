"""The AVG audit trail: who did what with which pupil's data, append-only and tamper-evident."""
