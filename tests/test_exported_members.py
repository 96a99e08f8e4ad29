"""The public contract of api.md stays importable, complete in ``__all__`` and documented."""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

import dispute_engine
from dispute_engine import commands, errors

API_MD = Path(__file__).parents[1] / "docs/reference/api.md"


def test_every_public_name_of_the_package_is_in_all():
    public = {
        name
        for name, value in vars(dispute_engine).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(public) == dispute_engine.__all__


def test_every_exported_name_is_documented_in_the_api_reference():
    text = API_MD.read_text(encoding="utf-8")
    section = text.split("## What `dispute_engine` exports", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Za-z]+)`", section))
    assert set(dispute_engine.__all__) <= listed
    assert listed <= set(dispute_engine.__all__)  # nothing listed that is not exported


def test_the_library_application_is_not_part_of_the_engine():
    for name in ("save", "repository", "recorder", "mapper", "notification_log"):
        assert not hasattr(dispute_engine.DisputeEngine, name), name


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


def test_close_is_only_the_domain_action():
    parameters = inspect.signature(dispute_engine.DisputeEngine.close).parameters
    assert list(parameters) == ["self", "dispute_id", "by"]
    assert all(p.default is inspect.Parameter.empty for p in parameters.values())
    assert callable(dispute_engine.DisputeEngine.shutdown)
