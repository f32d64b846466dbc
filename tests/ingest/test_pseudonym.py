"""pseudonymise_many (prepared HMAC states, used for every respondent of a wave) equals hmac.new per value."""

import hashlib
import hmac

import pytest

from pipeline.ingest.pseudonym import PSEUDONYM_HEX, pseudonymise, pseudonymise_many, respondent_pseudonyms

VALUES = ["id:R001", "id:", "row:2024/export.csv#7", "id:Åse Ødegård 🙂", "x" * 500]


@pytest.mark.parametrize("key", [b"test-key", b"", b"k" * 64, b"k" * 65, bytes(range(256)) * 3])
def test_many_equals_hmac_per_value(key):
    expected = [hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX] for v in VALUES]
    assert pseudonymise_many(key, VALUES) == expected == [pseudonymise(key, v) for v in VALUES]


def test_known_value():
    # HMAC-SHA256("test-key", "id:R001"), first 16 hex digits: fixed, so stored pseudonyms stay valid.
    assert respondent_pseudonyms(b"test-key", [" R001 "]) == [
        hmac.new(b"test-key", b"id:R001", hashlib.sha256).hexdigest()[:16]
    ]
    assert pseudonymise_many(b"test-key", []) == []
