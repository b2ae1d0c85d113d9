"""``Store.loan_months`` and ``Store.loans`` (SPEC §21.10–§21.11): loan months written by the
real CLI (``loans --store``) read back as the core's loan tables, and every row compared with
``crm_tiering.loans.classify`` of the same records, month by month from the states of the
month before. The demo's loan book (its ``input/loans/<month>.csv``) and a small book that
reaches a held upgrade, a closed loan and exact expected-loss ratios."""

from __future__ import annotations

import csv
import datetime
import pathlib
from decimal import Decimal

import pytest

import crm_tiering as ct
from cli_runner import run_cli
from crm_tiering.loans import classify

pa = pytest.importorskip("pyarrow")

HEADER = ["customer_id", "loan_id", "month", "principal_overdue_days", "interest_overdue_days", "bank_class",
          "expected_loss", "repayment_due"]


def records(path: pathlib.Path) -> list:
    """A `loans` CSV file's records as `classify` takes them (days as ints, the ratio a
    Decimal, empty cells left out)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        rec = {k: v for k, v in r.items() if v != ""}
        for k in ("principal_overdue_days", "interest_overdue_days"):
            rec[k] = int(rec[k])
        if "expected_loss" in rec:
            rec["expected_loss"] = Decimal(rec["expected_loss"])
        if "repayment_due" in rec:
            rec["repayment_due"] = rec["repayment_due"] == "true"
        out.append(rec)
    return out


def month_of(d: datetime.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def expected(months: dict) -> tuple:
    """The three tables' rows, as dicts of the store tables' columns, from `classify`'s
    outcomes of each month (`months`: month -> LoanMonth), months in order, customers by id."""
    zh = {"normal": "正常", "special_mention": "关注", "substandard": "次级", "doubtful": "可疑", "loss": "损失"}
    numbers = {"overdue": (2201, "逾期"), "approaching_non_performing": (2202, "临近不良"),
               "non_performing": (2203, "不良贷款"), "bank_class_kinder_than_floor": (2204, "分类宽于监管底线"),
               "upgrade_held_by_clean_window": (2205, "不良上调观察期未满")}
    customers, results, signals = [], [], []
    for m in sorted(months):
        for c in sorted(months[m].outcomes):
            o = months[m].outcomes[c]
            worst = o.get("worst")
            customers.append({"month": m, "customer_id": c, "loans": len(o["loans"]), "worst": worst,
                              "worst_zh": zh.get(worst), "trend": o.get("trend"),
                              "non_performing": o["has_non_performing"]})
            for loan in o["loans"]:
                row = {"month": m, "customer_id": c, **{k: v for k, v in loan.items() if k != "expected_loss"}}
                row["floor_zh"], row["effective_zh"] = zh[loan["floor"]], zh[loan["effective"]]
                loss = loan.get("expected_loss")
                row["expected_loss"] = None if loss is None else Decimal(loss).normalize()
                results.append(row)
            for s in o["signals"]:
                row = {k: v for k, v in s.items() if k != "kind"}
                number, name_zh = numbers[s["kind"]]
                row.update(month=m, signal=s["kind"], signal_zh=name_zh, number=number)
                signals.append(row)
    return customers, results, signals


def read_back(table) -> list:
    """A store table's rows with months as `YYYY-MM` and ratios normalized."""
    rows = table.to_pylist()
    for r in rows:
        r["month"] = month_of(r["month"])
        if r.get("expected_loss") is not None:
            r["expected_loss"] = r["expected_loss"].normalize()
    return rows


def compare(store: "ct.Store", months: dict, span: str) -> "ct.StoreLoans":
    got = store.loans(span)
    want_customers, want_results, want_signals = expected(months)
    assert read_back(got.customers) == want_customers
    assert read_back(got.results) == want_results
    assert read_back(got.signals) == want_signals
    return got


def test_the_demos_loan_months_read_back_as_classify_gives_them(tmp_path):
    demo = tmp_path / "demo"
    months = ["2023-01", "2023-02", "2023-03", "2023-04"]
    run_cli("demo", "--customers", "1000", "--months", str(len(months)), "--out", str(demo))
    store_path, rules_path = demo / "crm-tiering.db", demo / "input" / "rules.toml"
    rules = ct.load_rules(rules_path)
    classified, states = {}, None
    for m in months:
        loans = demo / "input" / "loans" / f"{m}.csv"
        run_cli("loans", "--month", m, "--loans", str(loans), "--rules", str(rules_path), "--store", str(store_path))
        classified[m] = classify(rules, m, records(loans), states=states)
        states = classified[m].states
    with ct.Store.open(store_path, read_only=True) as store:
        assert store.loan_months() == months
        got = compare(store, classified, f"{months[0]}..{months[-1]}")
        assert got.customers.num_rows > 100 and got.signals.num_rows > 5
        # By default the latest stored loan month only.
        latest = store.loans()
        assert {month_of(d) for d in latest.customers.column("month").to_pylist()} == {months[-1]}
        assert latest.customers.num_rows == len(classified[months[-1]].outcomes)
        # classify's tables are the same core tables: equal to the stored month's, cell for cell.
        for name in ("customers", "results", "signals"):
            assert getattr(latest, name).equals(getattr(classified[months[-1]], name)), name


def write_loans(path: pathlib.Path, rows: list) -> pathlib.Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def test_a_held_upgrade_a_closed_loan_and_exact_ratios(tmp_path):
    march = [["c1", "L1", "2024-03", "120", "0", "关注", "0.350", "true"],
             ["c1", "L2", "2024-03", "0", "0", "normal", "", "true"],
             ["c2", "L3", "2024-03", "70", "0", "2", "0.0000000000000000000000000001", "true"]]
    april = [["c1", "L1", "2024-04", "0", "0", "关注", "", "true"],
             ["c2", "L3", "2024-04", "100", "0", "关注", "1", "true"]]
    path = tmp_path / "crm-tiering.db"
    ct.Store.create(path).close()
    rules = ct.load_rules(None)
    classified, states = {}, None
    for m, rows in (("2024-03", march), ("2024-04", april)):
        loans = write_loans(tmp_path / f"{m}.csv", rows)
        run_cli("loans", "--month", m, "--loans", str(loans), "--store", str(path))
        classified[m] = classify(rules, m, records(loans), states=states)
        states = classified[m].states
    with ct.Store.open(path, read_only=True) as store:
        assert store.months() == [] and store.loan_months() == ["2024-03", "2024-04"]
        got = compare(store, classified, ("2024-03", "2024-04"))
        results = got.results.to_pylist()
        assert got.results.schema.field("expected_loss").type == pa.decimal128(38, 28)
        assert [r["expected_loss"] for r in results if r["month"] == datetime.date(2024, 3, 1)] == [
            Decimal("0.35"), None, Decimal("1E-28")]
        held = [r for r in results if r["upgrade"] == "held"]
        assert [(r["customer_id"], r["loan_id"], r["effective"], r["clean_months"]) for r in held] == [
            ("c1", "L1", "substandard", 1)]
        # c1's L2 closed in April: one loan that month.
        april_c1 = [r for r in got.customers.to_pylist() if r["customer_id"] == "c1"]
        assert [r["loans"] for r in april_c1] == [2, 1]
        # A single month that is not stored names the store's loan months.
        with pytest.raises(ct.InputError) as e:
            store.loans("2024-05")
        assert "loan month 2024-05 is not stored" in str(e.value) and "2024-03..2024-04" in str(e.value)
        # A range gives the stored months in it; an empty store gives empty tables.
        assert store.loans("2024-01..2024-03").customers.num_rows == 2
    empty = tmp_path / "empty.db"
    with ct.Store.create(empty) as store:
        assert store.loan_months() == []
        none = store.loans()
        assert (none.customers.num_rows, none.results.num_rows, none.signals.num_rows) == (0, 0, 0)
        assert none.results.schema.field("expected_loss").type == pa.decimal128(38, 28)
