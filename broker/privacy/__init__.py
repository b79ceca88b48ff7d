"""Protection of pupil numbers at rest (keyed hash for matching, AES-GCM for giving back)."""
