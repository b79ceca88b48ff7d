"""Tests of broker.edukoppeling.wss: signing, verification, Timestamp and recorded DUO traffic."""
