"""``tickwork secrets rotate``: a new key, every stored job secret re-encrypted under it, the
old seals still open, the jobs still get their secrets (issue 9, item 7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from tests.api.test_live import cli, environment
from tickwork.service import Tickwork
from tickwork.settings import Settings

SECRET = "Rotate-Canary-5eed-0042"


def stored_kwargs(data_dir: Path) -> str:
    engine = sa.create_engine(f"sqlite:///{data_dir / 'tickwork.db'}")
    try:
        with engine.connect() as conn:
            return str([r[0] for r in conn.execute(sa.text("SELECT target FROM tw_job"))])
    finally:
        engine.dispose()


def opened_elsewhere(data_dir: Path, token: str, context: str) -> str:
    """Open a seal in a fresh process that loads the data directory's keys."""
    code = (
        "import sys; from pathlib import Path; from tickwork.connections import vault as v; "
        "v.Vault.load(Path(sys.argv[1])); print(v.open_sealed(sys.argv[2], sys.argv[3]).decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(data_dir), token, context],
        capture_output=True, text=True, env=environment(data_dir), check=True, timeout=60,
    )  # fmt: skip
    return result.stdout.strip()


def test_rotate_moves_every_secret_to_a_new_key(tmp_path: Path) -> None:
    cli(tmp_path, "init")
    settings = Settings(data_dir=tmp_path, timezone="UTC")
    with Tickwork(settings=settings) as tw:
        for i in range(3):
            tw.add_job(
                "tests.api.tasks:use_password", "cron", hour=3, id=f"j{i}", owner="python",
                kwargs={"password": f"{SECRET}-{i}", "out": "/dev/null"}, secret_keys=["password"],
            )  # fmt: skip
        first_key = tw.vault.current
        job = tw.get_job("j0")
        assert job is not None
        old_token = job.record.target["kwargs"]["password"]
    assert SECRET not in stored_kwargs(tmp_path)
    status = cli(tmp_path, "secrets", "status").stdout
    assert first_key in status
    assert "current" in status
    out = cli(tmp_path, "secrets", "rotate").stdout
    assert "re-encrypted 3 secret(s) of 3 job(s)" in out, out
    ring = tmp_path / "vault_keys"
    assert ring.stat().st_mode & 0o077 == 0
    stored = stored_kwargs(tmp_path)
    assert SECRET not in stored
    assert first_key not in stored  # every secret moved to the new key
    with Tickwork(settings=settings) as tw:
        new_key = tw.vault.current
        assert new_key != first_key
        assert new_key in stored
        job = tw.get_job("j2")
        assert job is not None
        assert job.kwargs["password"] == f"{SECRET}-2"
        assert tw.secret_counts() == {new_key: 3}
    # a seal of the old key (a backup's) still opens in a fresh process
    assert opened_elsewhere(tmp_path, old_token, "job:j0:kwarg:password") == f'"{SECRET}-0"'
    status = cli(tmp_path, "secrets", "status").stdout
    assert new_key in status
    assert first_key in status
