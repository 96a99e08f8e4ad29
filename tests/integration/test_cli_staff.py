"""The staff commands: keys in 0600 files, acting as a local identity, the directory's members."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispute_engine.cli import app
from dispute_engine.identity import IDENTITY_ENV, Identity, identities_folder
from tests.factories import filing as valid_filing
from tests.factories import sealed_env

runner = CliRunner()


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Key files go to a folder of the test's own, never the user's config."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv(IDENTITY_ENV, raising=False)
    monkeypatch.delenv("DISPUTE_ENGINE_ACTOR", raising=False)
    monkeypatch.delenv("DISPUTE_ENGINE_ROLE", raising=False)
    return home


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_keygen_writes_a_private_key_file_only_its_owner_reads_and_prints_the_public_key():
    code, out, err = invoke("staff", "keygen", "--id", " Alice ")
    assert code == 0, err
    path = identities_folder() / "alice.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    identity = Identity.load(path)
    assert out.strip() == identity.public_key_hex
    assert identity.staff_id == "alice"
    assert str(path) in err


def test_keygen_never_replaces_a_key_unless_forced():
    invoke("staff", "keygen", "--id", "alice")
    path = identities_folder() / "alice.key"
    first = Identity.load(path).public_key_hex
    code, _, err = invoke("staff", "keygen", "--id", "ALICE")
    assert code == 1
    assert "refusing to replace a private key" in err
    assert Identity.load(path).public_key_hex == first
    code, out, _ = invoke("staff", "keygen", "--id", "alice", "--force", "--json")
    assert code == 0
    assert json.loads(out)["public_key"] == Identity.load(path).public_key_hex != first


def test_keygen_writes_where_the_identity_variable_points(tmp_path: Path):
    target = tmp_path / "keys" / "bob.key"
    code, out, _ = invoke("staff", "keygen", "--id", "bob", env={IDENTITY_ENV: str(target)})
    assert code == 0
    assert Identity.load(target).public_key_hex == out.strip()
    assert not identities_folder().exists()


@pytest.mark.parametrize("bad", ["", "   ", "al\u200bice", "a\x00b"])
def test_keygen_refuses_an_id_that_is_no_id(bad: str):
    code, _, err = invoke("staff", "keygen", "--id", bad)
    assert code == 2
    assert err.startswith("error: invalid input: --id:")
    assert not identities_folder().exists()


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path):
    invoke("staff", "keygen", "--id", "alice")
    path = identities_folder() / "alice.key"
    os.chmod(path, 0o644)
    code, _, err = invoke("queue", "--mine", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert code == 1
    assert "readable or writable by others" in err
    assert "chmod 600" in err


def test_actor_only_picks_among_local_identities(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'none.db'}"
    code, _, err = invoke("queue", "--mine", "--db", db)
    assert code == 2
    assert "no local identity" in err
    invoke("staff", "keygen", "--id", "alice")
    invoke("staff", "keygen", "--id", "carol")
    code, _, err = invoke("queue", "--mine", "--db", db)
    assert code == 2
    assert "several local identities (alice, carol)" in err
    code, _, err = invoke("queue", "--mine", "--db", db, "--actor", "mallory")
    assert code == 2
    assert "no local identity mallory" in err


def directory_env(tmp_path: Path, staff_id: str) -> dict[str, str]:
    return {
        "DISPUTE_ENGINE_REQUIRE_DIRECTORY": "true",
        IDENTITY_ENV: str(tmp_path / f"{staff_id}.key"),
        **sealed_env(),
    }


def keygen(tmp_path: Path, staff_id: str) -> str:
    code, out, err = invoke(
        "staff", "keygen", "--id", staff_id, env=directory_env(tmp_path, staff_id)
    )
    assert code == 0, err
    return out.strip()


def founded_desk(db_url: str, tmp_path: Path) -> dict[str, dict[str, str]]:
    """root founds the directory and adds alice (investigator) and bob (approver), zh."""
    keygen(tmp_path, "root")
    root = directory_env(tmp_path, "root")
    code, out, err = invoke("staff", "init", "--name", "Desk lead", "--db", db_url, env=root)
    assert code == 0, err
    assert "admin" in out
    for staff_id, role in (("alice", "investigator"), ("bob", "approver")):
        key = keygen(tmp_path, staff_id)
        code, _, err = invoke(
            "staff", "add", staff_id, "--grant", role, "--language", "zh",
            "--public-key", key, "--db", db_url, env=root,
        )  # fmt: skip
        assert code == 0, err
    return {name: directory_env(tmp_path, name) for name in ("root", "alice", "bob")}


def test_the_directory_is_founded_once_and_lists_its_members(db_url: str, tmp_path: Path):
    desk = founded_desk(db_url, tmp_path)
    code, _, err = invoke("staff", "init", "--db", db_url, env=desk["root"])
    assert code == 1
    assert "already has its first admin" in err
    code, out, _ = invoke("staff", "list", "--db", db_url, "--json")
    assert {(m["staff_id"], tuple(m["roles"])) for m in json.loads(out)} == {
        ("root", ("admin",)),
        ("alice", ("investigator",)),
        ("bob", ("approver",)),
    }
    code, out, _ = invoke("staff", "show", "ALICE", "--db", db_url)
    assert code == 0
    assert "investigator" in out
    code, _, err = invoke("staff", "show", "nobody", "--db", db_url)
    assert code == 1
    code, _, err = invoke("staff", "add", "eve", "--grant", "approver", "--public-key", "ab" * 32,
                          "--db", db_url, env=desk["alice"])  # fmt: skip
    assert code == 1
    assert "needs the role admin" in err


def test_members_work_a_dispute_with_their_own_keys(db_url: str, tmp_path: Path):
    desk = founded_desk(db_url, tmp_path)
    root, alice, bob = desk["root"], desk["alice"], desk["bob"]
    filing = tmp_path / "filing.json"
    filing.write_text(json.dumps(valid_filing(language="zh")))
    code, out, err = invoke("file", "--from-json", str(filing), "--db", db_url, env=alice)
    assert code == 0, err
    dispute_id = out.strip()
    code, _, err = invoke("note", dispute_id, "x", "--role", "approver", "--db", db_url, env=alice)
    assert code == 2
    assert "--role" in err
    code, out, _ = invoke("queue", "--mine", "--db", db_url, "--json", env=alice)
    assert [d["id"] for d in json.loads(out)] == [dispute_id]
    code, _, err = invoke("assign", dispute_id, "--investigator", "root", "--db", db_url, env=alice)
    assert code == 0, err
    assert "warning: root does not serve zh" in err
    invoke("assign", dispute_id, "--investigator", "alice", "--db", db_url, env=alice)
    code, _, err = invoke(
        "propose", dispute_id, "--outcome", "refund", "--rationale", "reverted",
        "--override", "no_lookup", "--override", "amount", "--override", "checklist",
        "--db", db_url, env=alice,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = invoke("approve", dispute_id, "--db", db_url, env=alice)
    assert code == 1
    assert "approver" in err
    code, out, err = invoke("approve", dispute_id, "--db", db_url, env=bob)
    assert code == 0, err
    code, out, err = invoke("execute", dispute_id, "--db", db_url, env=bob)
    assert code == 0, err
    code, out, err = invoke("audit", "verify", "--db", db_url, "--json", env=sealed_env())
    assert code == 0, err
    assert json.loads(out)["problems"] == []
    code, _, err = invoke("staff", "revoke", "bob", "--db", db_url, env=root)
    assert code == 0, err
    code, _, err = invoke("note", dispute_id, "still here", "--db", db_url, env=bob)
    assert code == 1
    assert "revoked" in err


def test_an_admin_changes_a_members_roles_and_languages(db_url: str, tmp_path: Path):
    desk = founded_desk(db_url, tmp_path)
    code, out, err = invoke(
        "staff", "change", "ALICE", "--grant", "auditor", "--revoke-role", "investigator",
        "--language", "es", "--drop-language", "ZH", "--db", db_url, "--json", env=desk["root"],
    )  # fmt: skip
    assert code == 0, err
    changed = json.loads(out)
    assert (changed["roles"], changed["languages"]) == (["auditor"], ["es"])
    code, out, _ = invoke("staff", "show", "alice", "--db", db_url, "--json")
    assert json.loads(out) == changed
    code, out, _ = invoke("staff", "history", "alice", "--db", db_url, "--json")
    assert [(e["name"], e["actor"]) for e in json.loads(out)] == [
        ("Registered", "root"),
        ("RolesChanged", "root"),
        ("LanguagesChanged", "root"),
    ]
    code, out, _ = invoke("staff", "history", "alice", "--db", db_url)
    assert (code, "RolesChanged" in out) == (0, True)
    code, _, err = invoke("staff", "change", "bob", "--language", "en", "--db", db_url,
                          env=desk["alice"])  # fmt: skip
    assert code == 1
    assert "needs the role admin" in err
    refused = [
        (["--revoke-role", "investigator"], "--revoke-role"),
        (["--drop-language", "fr"], "--drop-language"),
        (["--grant", "wizard"], "--grant"),
        (["--grant", "admin"], "--grant"),  # admin and approver may not be held together
        (["--language", "klingon!"], "--language"),
        ([], "--grant"),
    ]
    for flags, named in refused:
        code, _, err = invoke("staff", "change", "bob", *flags, "--db", db_url, env=desk["root"])
        assert code == 2, (flags, err)
        assert named in err, (flags, err)
        assert len(err.strip().splitlines()) == 1
    code, out, _ = invoke("staff", "show", "bob", "--db", db_url, "--json")
    assert (json.loads(out)["roles"], json.loads(out)["version"]) == (["approver"], 1)
