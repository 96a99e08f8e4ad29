"""Operators add tokens per chain from settings; the product's registry holds no test token."""

from __future__ import annotations

import pytest

from dispute_engine.errors import InvalidInput
from dispute_engine.networks import KnownAssets, Networks, Token
from dispute_engine.settings import Settings

ANVIL = 31337
ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_the_products_registry_knows_no_test_token_on_a_local_chain():
    assert KnownAssets().decimals(ANVIL, "TUSD", ADDRESS) is None
    assert Networks().network(ANVIL).tokens == ()


def test_a_token_added_in_the_environment_is_known_by_address_and_symbol(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv(
        "DISPUTE_ENGINE_TOKENS",
        f'{{"{ANVIL}": [{{"symbol": "tusd", "address": "{ADDRESS.lower()}", "decimals": 6}}]}}',
    )
    settings = Settings()
    (token,) = settings.tokens[ANVIL]
    assert (token.symbol, token.address, token.decimals) == ("TUSD", ADDRESS, 6)
    assets = KnownAssets(Networks({ANVIL: [Token(token.symbol, token.address, 6)]}))
    assert assets.decimals(ANVIL, "TUSD", ADDRESS) == 6
    assert assets.decimals(ANVIL, "TUSD", None) == 6
    assert assets.decimals(ANVIL, "ETH", None) == 18


def test_an_added_token_at_a_registered_address_replaces_the_registered_one():
    usdt = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
    assets = KnownAssets(Networks({1: [Token("USDT", usdt, 8)]}))
    assert assets.decimals(1, "USDT", usdt) == 8
    assert [t.symbol for t in Networks({1: [Token("USDT", usdt, 8)]}).network(1).tokens].count(
        "USDT"
    ) == 1


def test_tokens_on_an_unregistered_chain_make_it_known():
    assets = KnownAssets(Networks({777: [Token("ABC", ADDRESS, 2)]}))
    assert assets.decimals(777, "ABC", ADDRESS) == 2
    assert KnownAssets().decimals(777, "ABC", ADDRESS) is None


@pytest.mark.parametrize(
    "token",
    [
        {"symbol": "TUSD", "address": "0x123", "decimals": 6},
        {"symbol": "", "address": ADDRESS, "decimals": 6},
        {"symbol": "TUSD", "address": ADDRESS, "decimals": -1},
        {"symbol": "TUSD", "address": ADDRESS, "decimals": 6, "extra": 1},
    ],
)
def test_a_malformed_token_setting_is_refused(token: dict[str, object]):
    with pytest.raises((InvalidInput, ValueError)):
        Settings(tokens={ANVIL: [token]})  # type: ignore[list-item]
