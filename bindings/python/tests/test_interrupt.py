"""Ctrl-C during a long evaluation: a KeyboardInterrupt is raised promptly, and the portfolio is
left exactly as before the call (interrupted while reading) or with whole months applied, their
tables in the interrupt's ``.result`` (interrupted between the months of a range): never a
half-applied month, never states the caller does not see."""

import signal
import threading
import time

import pytest

import crm_tiering as ct

pa = pytest.importorskip("pyarrow")

N = 60_000
MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def _history(months):
    ids = [f"c{i:06d}" for i in range(N)]
    levels = [str(150_000 + (i * 7919) % 900_000) for i in range(N)]
    return pa.table(
        {
            "customer_id": ids * len(months),
            "month": [m for m in months for _ in range(N)],
            "aum": levels * len(months),
        }
    )


def _interrupted(call, after):
    """Runs ``call`` with SIGINT raised ``after`` seconds in: (result, interrupt, seconds)."""
    timer = threading.Timer(after, signal.raise_signal, args=(signal.SIGINT,))
    start = time.perf_counter()
    timer.start()
    try:
        try:
            return call(), None, time.perf_counter() - start
        except KeyboardInterrupt as e:
            return None, e, time.perf_counter() - start
    finally:
        timer.cancel()
        timer.join()


def test_ctrl_c_while_reading_leaves_the_portfolio_as_it_was():
    rules = ct.load_rules()
    p = ct.Portfolio(rules)
    p.evaluate_month("2023-12", _history(["2023-12"]))
    before = p.to_states_text()
    table = _history(MONTHS[:1])
    # Uninterrupted, the month takes this long: the interrupt below comes well before its end.
    q = ct.Portfolio.from_states_text(rules, before)
    start = time.perf_counter()
    q.evaluate_month("2024-01", table)
    whole = time.perf_counter() - start
    result, interrupt, seconds = _interrupted(lambda: p.evaluate_month("2024-01", table), after=0.01)
    assert result is None and interrupt is not None, "the interrupt was not raised"
    if getattr(interrupt, "result", None) is None:
        assert p.to_states_text() == before  # nothing applied
    else:
        assert p.to_states_text() == q.to_states_text()  # the month, whole, with its tables
        assert interrupt.result.states.num_rows == N
    assert seconds < whole + 1.0


def test_ctrl_c_between_months_keeps_whole_months_and_their_tables():
    rules = ct.load_rules()
    history = _history(MONTHS)
    # Timed uninterrupted, so that the interrupt comes once reading is over, among the months.
    start = time.perf_counter()
    ct.Portfolio(rules).evaluate_month("2024-01..2024-12", history)
    whole = time.perf_counter() - start
    # On a loaded machine a run can be faster than the timed one: the interrupt then comes
    # after the call; try again sooner (the property is checked whenever it lands).
    for fraction in (0.7, 0.5, 0.35, 0.2, 0.1):
        p = ct.Portfolio(rules)
        result, interrupt, _ = _interrupted(
            lambda: p.evaluate_month("2024-01..2024-12", history), after=fraction * whole
        )
        if interrupt is not None:
            break
    assert result is None and interrupt is not None, "the interrupt was not raised"
    applied = getattr(interrupt, "result", None)
    if applied is None:
        assert len(p) == 0  # interrupted while reading: nothing applied
        return
    months = sorted({f"{d:%Y-%m}" for d in applied.states.column("month").to_pylist()})
    # On a loaded machine the interrupt can land after the last month was applied, while the
    # call builds its tables: every month is then whole and applied, which is still the property.
    assert months == MONTHS[: len(months)] and 0 < len(months) <= len(MONTHS)
    assert applied.states.num_rows == N * len(months)
    # The states are exactly those of the months applied, evaluated without an interrupt.
    reference = ct.Portfolio(rules)
    reference.evaluate_month(f"{months[0]}..{months[-1]}", _history(months))
    assert p.to_states_text() == reference.to_states_text()
    # And the portfolio goes on from there.
    nxt = MONTHS[len(months)]
    r = p.evaluate_month(nxt, _history([nxt]))
    assert r.errors.num_rows == 0 and p.state("c000000").last_month == nxt
