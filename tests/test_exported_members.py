"""The public contract of api.md stays importable, and ``__all__`` stays sorted."""

from __future__ import annotations

import dispute_engine
from dispute_engine import commands, errors


def test_all_is_sorted_and_importable():
    assert dispute_engine.__all__ == sorted(dispute_engine.__all__)
    for name in dispute_engine.__all__:
        assert getattr(dispute_engine, name) is not None


def test_the_contract_names_exist():
    for name in ("DisputeEngine", "Actor", "Role", "Status"):
        assert name in dispute_engine.__all__
    for name in ("FileDispute", "ClaimedTransaction", "AddEvidence", "ProposeDecision"):
        assert hasattr(commands, name)
    base = errors.DisputeEngineError
    for name in (
        "InvalidInput",
        "InvalidTransition",
        "NotAuthorized",
        "DisputeNotFound",
        "ConcurrencyConflict",
        "ChainUnavailable",
    ):
        assert issubclass(getattr(errors, name), base)
    assert issubclass(errors.InvalidInput, ValueError)


def test_engine_has_every_method_of_the_contract():
    for method in (
        "open",
        "file_dispute",
        "assign",
        "verify_identity",
        "request_evidence",
        "add_evidence",
        "propose_decision",
        "approve_decision",
        "send_back",
        "execute_decision",
        "notify_claimant",
        "close",
        "reopen",
        "withdraw",
        "add_note",
        "get",
        "list_disputes",
        "history",
        "state_at",
    ):
        assert callable(getattr(dispute_engine.DisputeEngine, method))
