"""The ``orchestrator org`` commands against the real test database."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.models import ApiKey, Org
from orchestrator.orgs.service import hash_api_key


def test_org_create_prints_id_and_key_once_stored_hashed(engine: Engine) -> None:
    name = f"cli-{uuid.uuid4()}"
    result = CliRunner().invoke(app, ["org", "create", name, "--concurrency-limit", "7", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["name"] == name
    assert printed["concurrencyLimit"] == 7
    with Session(engine) as session:
        org = session.get(Org, uuid.UUID(printed["orgId"]))
        assert org is not None
        assert org.concurrency_limit == 7
        stored = session.scalars(select(ApiKey.key_hash).where(ApiKey.org_id == org.id)).all()
    assert stored == [hash_api_key(printed["apiKey"])]


def test_org_set_limit_changes_the_limit(engine: Engine) -> None:
    created = CliRunner().invoke(app, ["org", "create", f"cli-{uuid.uuid4()}", "--json"])
    org_id = json.loads(created.output)["orgId"]
    result = CliRunner().invoke(app, ["org", "set-limit", org_id, "25"])
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        org = session.get(Org, uuid.UUID(org_id))
        assert org is not None
        assert org.concurrency_limit == 25


def test_org_create_rejects_a_zero_limit(engine: Engine) -> None:
    result = CliRunner().invoke(app, ["org", "create", "x", "--concurrency-limit", "0"])
    assert result.exit_code == 2
    assert "concurrencyLimit must not be less than 1" in result.output


def _flat(output: str) -> str:
    """CLI output as one line, without the borders of Rich's error panel."""
    return " ".join(output.replace("│", " ").split())


def test_simulator_rejects_a_bad_fault_spec_before_serving() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["simulator", "--port", "1", "--faults", "bogus=1,dup=2"])
    assert result.exit_code == 2
    output = _flat(result.output)
    assert "unknown fault 'bogus'" in output
    assert "dup=2: must be a probability" in output
    from_env = runner.invoke(app, ["simulator", "--port", "1"], env={"ORCH_SIMULATOR_FAULTS": "x"})
    assert from_env.exit_code == 2
    assert "expected name=value" in _flat(from_env.output)


def test_simulator_rejects_bad_phone_numbers_before_serving() -> None:
    result = CliRunner().invoke(app, ["simulator", "--port", "1", "--phone-numbers", "a,b=12"])
    assert result.exit_code == 2
    assert "'b=12': the number must be E.164" in _flat(result.output)


def test_up_rejects_a_bad_fault_spec_before_starting_anything() -> None:
    result = CliRunner().invoke(app, ["up", "--faults", "drop=abc"])
    assert result.exit_code == 2
    assert "drop=abc: not a number" in _flat(result.output)


def test_org_create_shows_a_signing_secret_once_and_rotation_replaces_it(engine: Engine) -> None:
    created = CliRunner().invoke(app, ["org", "create", f"cli-{uuid.uuid4()}", "--json"])
    printed = json.loads(created.output)
    assert printed["signingSecret"].startswith("whsec_")
    rotated = CliRunner().invoke(app, ["org", "rotate-signing-secret", printed["orgId"], "--json"])
    assert rotated.exit_code == 0, rotated.output
    secret = json.loads(rotated.output)["signingSecret"]
    assert secret.startswith("whsec_") and secret != printed["signingSecret"]
    with Session(engine) as session:
        org = session.get(Org, uuid.UUID(printed["orgId"]))
        assert org is not None and org.signing_secret == secret
    missing = CliRunner().invoke(app, ["org", "rotate-signing-secret", str(uuid.uuid4())])
    assert missing.exit_code == 2 and "Org not found" in missing.output


def test_a_threaded_worker_gets_two_connections_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.cli import _pool_for_threads
    from orchestrator.config import get_settings

    monkeypatch.setenv("ORCH_DATABASE_POOL_OVERFLOW", "20")
    size = get_settings().database_pool_size
    _pool_for_threads(64)
    assert int(os.environ["ORCH_DATABASE_POOL_OVERFLOW"]) + size == 2 * 64 + 2
    monkeypatch.setenv("ORCH_DATABASE_POOL_OVERFLOW", "20")
    _pool_for_threads(8)
    assert os.environ["ORCH_DATABASE_POOL_OVERFLOW"] == "20", "enough already: left as it is"
