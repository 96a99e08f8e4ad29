"""A chain node that answers too slowly in total, or not at all: a bounded wait and one line
in a user's words. The slow node is a real HTTP server on 127.0.0.1 that drips its answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from dispute_engine import Actor, DisputeEngine, Settings
from dispute_engine.cli import app
from dispute_engine.errors import ChainUnavailable
from tests.chain_node import ANVIL_CHAIN_ID, free_port
from tests.factories import file_dispute, stored_rows

LIBRARY_WORDS = ("HTTPConnectionPool", "urllib3", "Max retries", "chains=", "Caused by")


class DrippingNode(ThreadingHTTPServer):
    """Answers every JSON-RPC request correctly, one byte a second."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Drip)
        self.answers_started = 0
        self.answers_finished = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Drip(BaseHTTPRequestHandler):
    server: DrippingNode

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": hex(ANVIL_CHAIN_ID)})
        self.server.answers_started += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for byte in body.encode():
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            return  # the client gave up: as it should
        self.server.answers_finished += 1

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def dripping_node() -> Iterator[DrippingNode]:
    node = DrippingNode()
    threading.Thread(target=node.serve_forever, daemon=True).start()
    yield node
    node.shutdown()
    node.server_close()


def _engine(db_url: str, url: str) -> DisputeEngine:
    return DisputeEngine.open(
        db_url, settings=Settings(chains={ANVIL_CHAIN_ID: url}, chain_timeout_seconds=2)
    )


def test_a_node_that_drips_its_answer_is_unavailable_within_the_timeout_and_nothing_is_recorded(
    db_url: str, dripping_node: DrippingNode, alice: Actor
):
    with _engine(db_url, dripping_node.url) as engine:
        dispute_id = file_dispute(engine, alice, transaction={"chain_id": ANVIL_CHAIN_ID})
        before = stored_rows(engine)
        too_slow = r"did not answer( the lookup)? within 2 s"  # whichever bound fires first
        with pytest.raises(ChainUnavailable, match=too_slow) as caught:
            engine.look_up_transaction(dispute_id, by=alice)
        assert dripping_node.answers_started >= 1
        # The answer takes over 40 s to drip; the lookup gave up long before its end.
        assert dripping_node.answers_finished == 0
        assert stored_rows(engine) == before
        assert not any(words in str(caught.value) for words in LIBRARY_WORDS)


def test_a_node_that_is_down_is_one_line_in_a_users_words(db_url: str, alice: Actor):
    with _engine(db_url, f"http://127.0.0.1:{free_port()}") as engine:
        dispute_id = file_dispute(engine, alice, transaction={"chain_id": ANVIL_CHAIN_ID})
        with pytest.raises(ChainUnavailable, match="cannot be reached") as caught:
            engine.look_up_transaction(dispute_id, by=alice)
    message = str(caught.value)
    assert "connection refused" in message.lower()
    assert not any(words in message for words in LIBRARY_WORDS)


def test_the_command_line_names_the_setting_when_no_node_is_configured(db_url: str, alice: Actor):
    with DisputeEngine.open(db_url) as engine:
        dispute_id = str(file_dispute(engine, alice))
    for env in ({}, {"DISPUTE_ENGINE_CHAINS": json.dumps({"56": "http://127.0.0.1:1"})}):
        result = CliRunner().invoke(
            app, ["chain", "lookup", dispute_id, "--db", db_url, "--actor", "alice"], env=env
        )
        assert result.exit_code != 0
        assert "DISPUTE_ENGINE_CHAINS" in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not any(words in result.output for words in LIBRARY_WORDS)
