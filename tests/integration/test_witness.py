"""The witness: an append-only file outside the database, and a witness URL on this machine."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from multiprocessing import get_context
from pathlib import Path

import pytest

from dispute_engine.checkpoints import Checkpoint
from dispute_engine.merkle import MerkleTree, leaf_hash
from dispute_engine.seals import KeyRing, SigningKey
from dispute_engine.witness import (
    WITNESS_FILE,
    WitnessUnavailable,
    WitnessWriter,
    read_witness,
    witness_problems,
)

KEY = bytes(range(32))
RING = KeyRing(SigningKey(KEY))
WHEN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def checkpoint(size: int) -> Checkpoint:
    tree = MerkleTree(leaf_hash(str(n).encode()) for n in range(size))
    return Checkpoint.sign(RING, size, tree.root(), WHEN)


class Witness(BaseHTTPRequestHandler):
    received: list[bytes]
    status = 201

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(self.rfile.read(length))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def witness_url() -> Iterator[tuple[str, type[Witness]]]:
    handler = type("Handler", (Witness,), {"received": [], "status": 201})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/checkpoints", handler
    server.shutdown()
    server.server_close()


def test_checkpoints_are_appended_as_json_lines_and_read_back_in_order(tmp_path: Path):
    writer = WitnessWriter(tmp_path / "witness")
    for size in (1, 5, 9):
        writer.append(checkpoint(size))
    record = read_witness(tmp_path / "witness")
    assert record.problems == []
    assert [(line, c.tree_size) for line, c in record.checkpoints] == [(1, 1), (2, 5), (3, 9)]
    for _, c in record.checkpoints:
        c.verify(RING)


def test_the_witness_url_receives_each_line(tmp_path: Path, witness_url):
    url, handler = witness_url
    WitnessWriter(tmp_path, url=url).append(checkpoint(3))
    assert [Checkpoint.from_json(body.decode()) for body in handler.received] == [checkpoint(3)]
    assert (tmp_path / WITNESS_FILE).read_bytes() == handler.received[0]


def test_a_witness_that_refuses_is_reported_after_the_file_is_written(tmp_path: Path, witness_url):
    url, handler = witness_url
    handler.status = 500
    with pytest.raises(WitnessUnavailable, match="did not accept"):
        WitnessWriter(tmp_path, url=url).append(checkpoint(3))
    assert len(read_witness(tmp_path).checkpoints) == 1


def test_a_witness_url_nobody_listens_on_is_unavailable(tmp_path: Path):
    with pytest.raises(WitnessUnavailable):
        WitnessWriter(tmp_path, url="http://127.0.0.1:9/", timeout=2).append(checkpoint(1))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/", "127.0.0.1:80"])
def test_a_witness_url_that_is_not_http_is_refused(tmp_path: Path, url: str):
    with pytest.raises(ValueError, match="http or https"):
        WitnessWriter(tmp_path, url=url)


def test_a_witness_folder_that_cannot_be_written_is_unavailable(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(WitnessUnavailable, match="cannot append"):
        WitnessWriter(blocker).append(checkpoint(1))


def test_a_missing_witness_file_is_unavailable(tmp_path: Path):
    with pytest.raises(WitnessUnavailable, match="cannot read"):
        read_witness(tmp_path)


def test_a_cut_short_or_garbled_line_is_reported_by_number(tmp_path: Path):
    writer = WitnessWriter(tmp_path)
    writer.append(checkpoint(1))
    with (tmp_path / WITNESS_FILE).open("a") as file:
        file.write("garbage\n")
    writer.append(checkpoint(2))
    with (tmp_path / WITNESS_FILE).open("a") as file:
        file.write(checkpoint(3).to_json()[:40])
    record = read_witness(tmp_path)
    assert [line for line, _ in record.checkpoints] == [1, 3]
    assert [line for line, _ in record.problems] == [2, 4]
    assert "cut short" in record.problems[1][1]


def append_many(directory: str, start: int) -> None:
    writer = WitnessWriter(Path(directory))
    for size in range(start, start + 25):
        writer.append(checkpoint(size))


def test_four_processes_appending_at_once_lose_and_interleave_no_line(tmp_path: Path):
    context = get_context("spawn")
    workers = [
        context.Process(target=append_many, args=(str(tmp_path), 100 * n + 1)) for n in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    record = read_witness(tmp_path)
    assert record.problems == []
    assert sorted(c.tree_size for _, c in record.checkpoints) == sorted(
        100 * n + 1 + k for n in range(4) for k in range(25)
    )


def test_the_file_is_opened_append_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    flags: list[int] = []
    real_open = os.open

    def spy(path, flag, mode=0o777):
        flags.append(flag)
        return real_open(path, flag, mode)

    monkeypatch.setattr(os, "open", spy)
    WitnessWriter(tmp_path).append(checkpoint(1))
    assert flags
    assert flags[0] & os.O_APPEND


def witnessed_log(tmp_path: Path, sizes: list[int]) -> MerkleTree:
    tree = MerkleTree(leaf_hash(str(n).encode()) for n in range(max(sizes)))
    writer = WitnessWriter(tmp_path)
    for size in sizes:
        writer.append(Checkpoint.sign(RING, size, tree.root(size), WHEN))
    return tree


def test_a_log_that_extends_every_witnessed_checkpoint_has_no_problem(tmp_path: Path):
    tree = witnessed_log(tmp_path, [3, 8, 13])
    for n in range(13, 20):
        tree.append(leaf_hash(str(n).encode()))
    assert witness_problems(read_witness(tmp_path), tree, tree.size, RING) == []


def test_history_rewritten_with_the_key_is_caught_by_an_old_witness_file(tmp_path: Path):
    witnessed_log(tmp_path, [3, 8, 13])
    # Whoever holds the key rewrites leaf 5 and signs fresh checkpoints for the new tree.
    leaves = [leaf_hash(str(n).encode()) for n in range(20)]
    leaves[5] = leaf_hash(b"forged")
    rewritten = MerkleTree(leaves)
    later = tmp_path / "new"
    WitnessWriter(later).append(Checkpoint.sign(RING, 20, rewritten.root(), WHEN))
    assert witness_problems(read_witness(later), rewritten, 20, RING) == []
    problems = witness_problems(read_witness(tmp_path), rewritten, 20, RING)
    assert [line for line, _ in problems] == [2, 3]
    assert "not what was witnessed" in problems[0][1]


def test_a_log_cut_shorter_than_a_witnessed_checkpoint_is_caught(tmp_path: Path):
    tree = witnessed_log(tmp_path, [3, 8])
    assert witness_problems(read_witness(tmp_path), tree, 5, RING) == [
        (2, "the log has 5 leaves, the witness saw 8")
    ]


def test_a_witness_line_signed_by_another_key_or_garbled_is_a_problem(tmp_path: Path):
    tree = witnessed_log(tmp_path, [3])
    stranger = KeyRing(SigningKey.generate())
    WitnessWriter(tmp_path).append(Checkpoint.sign(stranger, 3, tree.root(3), WHEN))
    with (tmp_path / WITNESS_FILE).open("a") as file:
        file.write("{}\n")
    problems = witness_problems(read_witness(tmp_path), tree, tree.size, RING)
    assert [line for line, _ in problems] == [2, 3]


def append_forever(directory: str) -> None:
    writer = WitnessWriter(Path(directory))
    size = 1
    while True:
        writer.append(checkpoint(size))
        size += 1


def test_a_writer_killed_mid_append_leaves_only_whole_lines_or_a_named_cut(tmp_path: Path):
    worker = get_context("spawn").Process(target=append_forever, args=(str(tmp_path),))
    worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(read_witness_lines(tmp_path)) < 20:
        time.sleep(0.05)
    os.kill(worker.pid or 0, signal.SIGKILL)
    worker.join(10)
    record = read_witness(tmp_path)
    assert len(record.checkpoints) >= 20
    assert [c.tree_size for _, c in record.checkpoints] == list(
        range(1, len(record.checkpoints) + 1)
    )
    assert all("cut short" in problem for _, problem in record.problems)


def read_witness_lines(folder: Path) -> list[str]:
    path = folder / WITNESS_FILE
    return path.read_text().splitlines() if path.exists() else []
