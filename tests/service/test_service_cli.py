"""``placematch load``, ``placematch user`` and ``placematch serve`` (a real process)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from servicekit import DEMO

from placematch.cli import main


def test_load_and_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    assert main(["load", str(DEMO), "--db", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["children_added"] == 12 and out["vacancies_added"] == 16
    assert out["authority"] == "E10000012"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a long password\n"))
    assert (
        main(
            [
                "user",
                "add",
                "ann",
                "--role",
                "placement_officer",
                "--authority",
                "Essex",
                "--authority",
                "Thurrock",
                "--password-stdin",
                "--db",
                url,
            ]
        )
        == 0
    )
    assert "Added ann (placement_officer; E06000034, E10000012)" in capsys.readouterr().out
    assert main(["user", "list", "--json", "--db", url]) == 0
    users = json.loads(capsys.readouterr().out)
    assert users == [
        {
            "username": "ann",
            "role": "placement_officer",
            "authorities": ["E06000034", "E10000012"],
            "active": True,
        }
    ]
    assert main(["user", "disable", "ann", "--db", url]) == 0
    assert "ann is now disabled." in capsys.readouterr().out
    assert main(["user", "list", "--db", url]) == 0
    assert capsys.readouterr().out == "ann\tplacement_officer\tE06000034, E10000012\tdisabled\n"
    assert main(["user", "enable", "nobody", "--db", url]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("short\n"))
    assert main(["user", "add", "bob", "--role", "admin", "--password-stdin", "--db", url]) == 2
    assert "password: expected at least 8 characters" in capsys.readouterr().err


def test_load_rejected_folder_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(DEMO, bad)
    text = (bad / "vacancies.csv").read_text()
    (bad / "vacancies.csv").write_text(
        text.replace(",good,480,", ",great,480,").replace(",3,16,17,M,", ",0,16,17,M,")
    )
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    assert main(["load", str(bad), "--db", url]) == 2
    err = capsys.readouterr().err
    assert "2 problems; nothing stored" in err
    assert "vacancies.csv:3: ofsted" in err and "vacancies.csv:14: beds" in err
    assert "Traceback" not in err
    assert main(["load", str(DEMO), "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["children_added"] == 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_migrates_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PLACEMATCH_DATA": str(tmp_path / "data")}
    env.pop("PLACEMATCH_DB", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "placematch", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(200):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("placematch serve did not answer")
        assert r.json()["status"] == "ok" and r.json()["database"] == "sqlite"
        assert (tmp_path / "data" / "placematch.sqlite3").exists()
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5, follow_redirects=True)
        assert page.status_code == 200 and "Sign in" in page.text
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    assert "serving on http://127.0.0.1:" in out
    assert "Traceback" not in out
    # a first start with no users says how to add one (nobody could sign in otherwise)
    assert "no users yet" in out and "placematch user add" in out


def test_serve_with_users_says_nothing_about_adding_one(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    env = {**os.environ, "PLACEMATCH_DB": db}
    add = subprocess.run(
        [
            sys.executable,
            "-m",
            "placematch",
            "user",
            "add",
            "ana",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="a long enough password 1\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert add.returncode == 0, add.stderr
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "placematch", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("placematch serve did not answer")
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    assert "serving on http://127.0.0.1:" in out
    assert "no users yet" not in out


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        db = f"sqlite:///{tmp_path / 'store.sqlite3'}"
        assert main(["serve", "--port", str(port), "--db", db]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"placematch: error: port {port} on 127.0.0.1 is already in use: stop the other "
        "server or give another --port\n"
    )
    assert not (tmp_path / "store.sqlite3").exists()  # refused before the store is touched
