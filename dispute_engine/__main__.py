"""``python -m dispute_engine``: the command-line interface."""

from dispute_engine.cli import app

app(prog_name="dispute-engine")
