"""Node URLs in messages: what may be a secret is hidden."""

from __future__ import annotations

import pytest

from chain.client import public_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://mainnet.example/v3/0123abcd", "https://mainnet.example/…"),
        ("https://rpc.example/?apikey=s3cret", "https://rpc.example/…"),
        ("http://user:pass@127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
        ("eth-tester://", "eth-tester://"),
    ],
)
def test_a_public_url_keeps_only_scheme_host_and_port(url: str, shown: str) -> None:
    assert public_url(url) == shown
