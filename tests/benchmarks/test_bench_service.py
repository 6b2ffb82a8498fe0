"""The service suite's printed summary states the issue's measure: p95 with 20 clients."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.service import report


def _record(name: str, clients: int, p95: float, met: bool | None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "clients": clients,
        "p50_seconds": p95 / 2,
        "p95_seconds": p95,
        "target_met": met,
        "server_cpu_seconds_per_request": 0.00205,
        "load_average_before": [4.25, 1.0, 1.0],
        "load_average_after": [5.0, 1.0, 1.0],
        "errors": 0,
        "audit_complete": True,
        **extra,
    }


def test_the_summary_gives_p95_and_the_target_per_phase() -> None:
    text = report(
        [
            _record("rank_full_1_client", 1, 0.012, None),
            _record("rank_full_20_clients", 20, 0.0734, False, errors=2),
            _record("rank_top10_20_clients", 20, 0.029, True),
        ]
    )
    lines = text.splitlines()
    assert lines[1].split() == [
        "rank_full_1_client",
        "1",
        "6.0",
        "12.0",
        "-",
        "2.05",
        "4.2",
        "->",
        "5.0",
    ]
    assert lines[2].split()[:6] == ["rank_full_20_clients", "20", "36.7", "73.4", "missed", "2.05"]
    assert lines[3].split()[4] == "met"
    assert lines[-1].endswith(
        "p95 <= 30 ms with 20 concurrent clients; errors 2; every request audited: True"
    )


def test_the_servers_cpu_and_memory_are_those_of_all_its_processes() -> None:
    """``serve --workers N`` answers in child processes: the CPU time and peak memory the
    suite reports are of the process and all its descendants, not of the parent alone."""
    import subprocess
    import sys

    from benchmarks.service import _cpu_seconds, _peak_rss, _tree

    burn = (
        "import time\n"
        "t = time.process_time()\n"
        "while time.process_time() - t < 0.5: pass\n"
        "print('done', flush=True)\n"
        "time.sleep(60)\n"
    )
    # a parent that uses no CPU of its own and waits for its child (the worker)
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}])",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "done"
        assert len(_tree(parent.pid)) == 2
        cpu = _cpu_seconds(parent.pid)
        assert cpu is not None and cpu >= 0.5
        rss = _peak_rss(parent.pid)
        alone = _peak_rss(parent.pid, descendants=False)
        assert rss is not None and alone is not None and rss > alone
    finally:
        for pid in _tree(parent.pid)[1:]:
            subprocess.run(["kill", str(pid)], check=False)
        parent.kill()
        parent.wait()


@pytest.mark.parametrize("clients_as", ["processes", "threads"])
def test_clients_run_as_processes_or_threads_and_report_each_request(
    clients_as: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import http.server
    import threading

    from benchmarks import service

    class Kept(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = self.path.encode()
            self.send_response(200 if "bad" not in self.path else 404)
            self.send_header("X-Placematch-Cache", "hit")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Kept)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(service, "CLIENTS_AS", clients_as)
    work = service.Workload("x", None, None, 6, clients=3)
    port = server.server_address[1]
    clients = [
        service._Client(port, "t", ["w"], [f"c{k}", "bad" if k == 1 else "c"], work, 0.0)
        for k in range(3)
    ]
    calls: list[int] = []
    try:
        elapsed, results = service._run_clients(clients, lambda: calls.append(1))
    finally:
        server.shutdown()
    assert calls == [1] and elapsed >= 0
    assert sorted(len(times) for times, _, _, _ in results) == [2, 2, 2]
    assert all(all(kept) for _, kept, _, _ in results)
    assert sorted(e for _, _, errors, _ in results for e in errors) == ["404"]
    assert sum(warm for _, _, _, warm in results) == 0
