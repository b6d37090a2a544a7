"""A throwaway PostgreSQL cluster for the tests: Debian's postgresql binaries (the README's test command
installs them), `initdb` into a temporary folder, the server listening only on a Unix socket in that
folder, stopped and removed at the end of the session.

PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user Debian's package
creates (commands run through `runuser`). Missing binaries fail the tests with what to install, unless
SPEAKSPHERE_TESTS_WITHOUT_POSTGRES=1 says to skip them (never in CI).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

OPT_OUT_ENV = "SPEAKSPHERE_TESTS_WITHOUT_POSTGRES"
SUPERUSER = "speaksphere"  # the cluster's superuser, trusted on its private socket only


def postgres_bin() -> Path | None:
    """The folder of pg_ctl and initdb: on PATH, else Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(folders[-1]).parent if folders else None


@dataclass
class Cluster:
    """A running throwaway cluster: `url(database)` names one of its databases."""

    folder: Path
    bin: Path
    as_user: list[str]  # the command prefix that runs a program as the cluster's owner
    counter: int = 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.folder}"

    def run(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *command], check=True, capture_output=True, text=True, timeout=120)

    def new_database(self) -> str:
        """A fresh, empty database's URL."""
        import psycopg

        self.counter += 1
        name = f"test_{os.getpid()}_{self.counter}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(durable: bool = False) -> Cluster:
    """initdb and start a cluster in a new temporary folder (a few seconds); pytest.fail if it cannot.

    Tests run it with fsync off (a crash of the test machine loses nothing they need); `durable` keeps
    PostgreSQL's default, an fsync per commit, for benchmarks that compare it with SQLite's FULL sync."""
    folder_bin = postgres_bin()
    if folder_bin is None:
        if os.environ.get(OPT_OUT_ENV) == "1":
            pytest.skip(f"PostgreSQL is not installed and {OPT_OUT_ENV}=1")
        pytest.fail("The PostgreSQL tests need Debian's postgresql (pg_ctl, initdb): "
                    "apt-get install -y postgresql (the README's test command does), or set "
                    f"{OPT_OUT_ENV}=1 to skip them on this machine (never in CI)", pytrace=False)
    folder = Path(tempfile.mkdtemp(prefix="speaksphere-pg-"))  # short: a socket path has ~100 characters
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(folder, folder_bin, as_user)
    data = folder / "data"
    try:
        cluster.run(str(folder_bin / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
                    "--no-sync", "-E", "UTF8", "--locale=C")
        options = f"-c listen_addresses='' -c unix_socket_directories='{folder}' -c max_connections=100"  # no port
        cluster.run(str(folder_bin / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
                    "-o", options + ("" if durable else " -c fsync=off"), "start")
    except subprocess.CalledProcessError as error:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        cluster.stop()
        pytest.fail(f"cannot start a throwaway PostgreSQL cluster: {error.stderr or error.stdout}\n{log[-2000:]}",
                    pytrace=False)
    return cluster
