"""web3 adapters implementing the engine's chain ports."""
