"""How `make bench-peers` sizes its h2load cells from the warm-up (no servers: h2load faked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.peers import __main__ as peers
from bench.peers.h2load import H2loadResult
from bench.peers.probe import Probe

RATE = 500.0  # the server's req/s in the fake


def _fake_h2load(calls: list[tuple[int, int]], warm_up_times_out: bool):
    def run(
        url: str, frame: Path, answer_bytes: int, requests: int, streams: int, time_cap_s: float
    ) -> H2loadResult:
        calls.append((requests, streams))
        if warm_up_times_out and len(calls) == 1:  # as run_h2load reports a killed run
            return H2loadResult(requests, 0, 0, requests, time_cap_s, float("nan"), True)
        seconds = requests / RATE
        return H2loadResult(requests, requests, requests, 0, seconds, 2.0, False)

    return run


@pytest.mark.parametrize("warm_up_times_out", [False, True])
def test_cells_are_sized_from_a_measured_rate_even_when_the_warm_up_hits_its_time_cap(
    monkeypatch: pytest.MonkeyPatch, warm_up_times_out: bool
) -> None:
    # Found on 7 December: a slow minute made the 80,000-call warm-up pass its time cap, its
    # rate read as 0, and the cells ran 4 and 8 requests each; their figures went into the table.
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(peers, "run_h2load", _fake_h2load(calls, warm_up_times_out))
    cells = peers.h2load_cells("http://x/y", Path("frame"), Probe(100, 0.0), 1, peers.QUICK)
    expected = round(RATE * peers.QUICK.cell_s)
    assert [len(cell.runs) for cell in cells] == [1, 1]
    assert [cell.runs[0]["requests"] for cell in cells] == [expected, expected]
    assert calls[0] == (peers.WARM_UP[1], 8)


def test_a_server_too_slow_for_the_rate_run_too_stops_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def killed(
        url: str, frame: Path, answer_bytes: int, requests: int, streams: int, time_cap_s: float
    ) -> H2loadResult:
        return H2loadResult(requests, 0, 0, requests, time_cap_s, float("nan"), True)

    monkeypatch.setattr(peers, "run_h2load", killed)
    with pytest.raises(RuntimeError, match="cap twice at 1 rows"):
        peers.h2load_cells("http://x/y", Path("frame"), Probe(100, 0.0), 1, peers.QUICK)
