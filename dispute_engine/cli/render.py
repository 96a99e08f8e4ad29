"""How results look to people: aligned tables, key-value blocks, times in one UTC form."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import typer

from dispute_engine.views import DisputeView


def utc(moment: datetime | None) -> str:
    """A time as ISO 8601 in UTC to the second (``2026-11-20T08:15:00Z``), or ``-``."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows under headers, each column as wide as its widest cell."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), ["-" * w for w in widths], *cells]:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def pairs(items: Sequence[tuple[str, object]]) -> None:
    """Print ``key  value`` lines with the keys aligned."""
    width = max(len(k) for k, _ in items)
    for key, value in items:
        typer.echo(f"{key.ljust(width)}  {value}")


def dispute(view: DisputeView) -> None:
    """Print a dispute: the claim, the chain's facts, the decision, payouts and clocks."""
    claim, tx = view.claim, view.claim.transaction
    asset = tx.asset
    identity = (
        f"{view.identity_method} by {view.identity_verified_by}"
        if view.identity_verified
        else "not verified"
    )
    items: list[tuple[str, object]] = [
        ("id", view.id),
        ("status", view.status),
        ("version", view.version),
        ("claimant", f"{claim.claimant_id} ({claim.language}, {claim.channel})"),
        ("reason", claim.reason),
        ("priority", claim.priority),
        ("transaction", f"chain {tx.chain_id} {tx.tx_hash}"),
        ("amount", f"{view.disputed_amount} {asset} (paid {view.paid_amount})"),
        ("filed", f"{utc(view.filed_at)} by {view.filed_by}"),
        ("updated", utc(view.updated_at)),
        ("assignee", view.assignee or "-"),
        ("identity", identity),
        ("evidence", len(view.evidence)),
        ("notes", len(view.notes)),
    ]
    facts = view.chain_facts
    if facts is None:
        items.append(("chain", "not looked up"))
    else:
        block = "-" if facts.block_number is None else facts.block_number
        final = "final" if facts.finalized else f"{facts.confirmations} confirmations, not final"
        items += [
            ("chain", f"{facts.status} in block {block} at {utc(facts.block_time)} ({final})"),
            ("chain moved", "-" if facts.value is None else f"{facts.value} {asset}"),
            ("mismatches", ", ".join(facts.mismatches) or "none"),
            ("looked up", f"{utc(facts.observed_at)} (lookup {facts.lookup})"),
        ]
    decision = view.decision
    if decision is not None:
        approval = (
            "awaiting approval"
            if decision.approved_by is None
            else f"approved by {decision.approved_by} at {utc(decision.approved_at)}"
        )
        items += [
            ("decision", f"#{decision.number} {decision.outcome} {decision.amount} {asset}"),
            ("proposed", f"{utc(decision.proposed_at)} by {decision.proposed_by}; {approval}"),
            ("rationale", decision.rationale),
        ]
        # The chain facts the proposer overrode, on views that record them.
        overrides = getattr(decision, "overrides", None) or []
        if overrides:
            items.append(("overrides", ", ".join(str(o) for o in overrides)))
    for payout in view.payouts:
        items.append(
            (
                f"payout #{payout.decision_number}",
                f"{payout.amount} {asset} at {utc(payout.executed_at)} "
                f"by {payout.executed_by}: {payout.reference}",
            )
        )
    for clock in view.sla_clocks:
        items.append((f"sla {clock.metric}", f"{clock.state}, due {utc(clock.due_at)}"))
    items += casework(view)
    pairs(items)


def casework(view: DisputeView) -> list[tuple[str, object]]:
    """The checklist, links, contacts, escalation and provisional credits of a dispute."""
    asset = view.claim.transaction.asset
    items: list[tuple[str, object]] = []
    if view.checklist_version is not None:
        done = sum(i.done for i in view.checklist)
        items.append(
            (
                "checklist",
                f"{done} of {len(view.checklist)} done (version {view.checklist_version})",
            )
        )
        items += [(f"  [{'x' if i.done else ' '}] {i.name}", i.description) for i in view.checklist]
    if view.linked:
        items.append(("linked", ", ".join(str(i) for i in view.linked)))
    for c in view.contacts:
        items.append((f"contact {c.party}", f"{c.channel} at {utc(c.at)} by {c.by}: {c.note}"))
    if view.queue is not None:
        items.append(("escalated", f"{view.priority} priority, {view.queue} queue"))
    if view.credit_due_at is not None and not view.provisional_credits:
        items.append(("credit due", utc(view.credit_due_at)))
    for n, credit in enumerate(view.provisional_credits, start=1):
        settled = "" if credit.settled_at is None else f", settled {utc(credit.settled_at)}"
        items.append(
            (
                f"credit #{n}",
                f"{credit.amount} {asset} {credit.state} (granted {utc(credit.granted_at)} "
                f"by {credit.granted_by}{settled})",
            )
        )
    return items
