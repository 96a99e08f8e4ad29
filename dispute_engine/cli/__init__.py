"""``dispute-engine``: a thin command-line layer over the public Python API.

``app`` is the entry point; the command modules register themselves on it when imported.
"""

from dispute_engine.cli import (
    auditor,
    casework,
    claimants,
    notices,
    operations,
    reading,
    reports,
    staff,
    workflow,
)
from dispute_engine.cli.app import app

__all__ = [
    "app",
    "auditor",
    "casework",
    "claimants",
    "notices",
    "operations",
    "reading",
    "reports",
    "staff",
    "workflow",
]
