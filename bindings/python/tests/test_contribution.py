"""crm_tiering.contribution: Arrow tables in and out, exact decimals, errors naming the row and
column, explain, and a what-if on the FTP rates. The expected figures are computed here by
hand (decimal arithmetic and the rounding rule of SPEC 20.3), not copied from a run."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

pa = pytest.importorskip("pyarrow")

from crm_tiering import TieringError  # noqa: E402
from crm_tiering.contribution import (  # noqa: E402
    ContributionError,
    ContributionRules,
    compute,
    what_if,
)

D = Decimal
MONEY = pa.decimal128(20, 2)
RATE = pa.decimal128(10, 4)

BOOK = """
basis = 360
[ftp]
rates = [
  { product = "demand", term = "none", effective = "2024-01", rate = "0.0200" },
  { product = "loan", term = "1y", effective = "2024-01", rate = "0.0350" },
]
[[stages]]
pool = "counter"
driver = "accounts"
"""

# March 2024 has 31 days; basis 360.
DAYS, BASIS = 31, 360
FTP = {"demand": D("0.0200"), "loan": D("0.0350")}
ACCOUNTS = [
    # customer, account, product, term, side, balance, customer rate, branch
    ("c1", "a1", "demand", "none", "liability", D("1000000.00"), D("0.0030"), "b1"),
    ("c1", "a2", "loan", "1y", "asset", D("200000.00"), D("0.0500"), "b1"),
    ("c2", "a3", "demand", "none", "liability", D("50000.00"), D("0.0030"), "b2"),
]


def fen(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def interest(side: str, balance: Decimal, rate: Decimal, ftp: Decimal) -> Decimal:
    spread = ftp - rate if side == "liability" else rate - ftp
    return fen(balance * spread * DAYS / BASIS)


def accounts_table(rows=ACCOUNTS, balance_type=MONEY):
    cols = list(zip(*rows))
    return pa.table(
        {
            "month": ["2024-03"] * len(rows),
            "customer": list(cols[0]),
            "account": list(cols[1]),
            "product": list(cols[2]),
            "term": list(cols[3]),
            "side": list(cols[4]),
            "average_balance": pa.array(list(cols[5]), balance_type),
            "customer_rate": pa.array(list(cols[6]), RATE),
            "branch": list(cols[7]),
            "legal_entity": ["le1"] * len(rows),
        }
    )


def tables():
    return dict(
        fees=pa.table({"month": ["2024-03"], "customer": ["c1"], "amount": pa.array([D("120.00")], MONEY)}),
        cost_pools=pa.table({"month": ["2024-03"], "cost_centre": ["counter"], "amount": pa.array([D("100.00")], MONEY)}),
        direct_costs=pa.table(
            {"month": ["2024-03"], "customer": ["c2"], "item": ["gift"], "amount": pa.array([D("10.00")], MONEY)}
        ),
        assignments=pa.table(
            {"customer": ["c1", "c1"], "manager": ["m1", "m2"], "role": ["主办", "协办"], "share": pa.array([60, 40])}
        ),
    )


@pytest.fixture(scope="module")
def rules():
    return ContributionRules.from_toml(BOOK)


@pytest.fixture(scope="module")
def result(rules):
    return compute(rules, "2024-03", accounts_table(), **tables())


def test_the_hand_computed_figures(result):
    # a1: 1,000,000.00 × (2.00% − 0.30%) × 31/360 = 1463.888… → 1463.89
    # a2: 200,000.00 × (5.00% − 3.50%) × 31/360 = 258.333… → 258.33
    # a3: 50,000.00 × (2.00% − 0.30%) × 31/360 = 73.194… → 73.19
    a1, a2, a3 = (interest(s, b, r, FTP[p]) for (_, _, p, _, s, b, r, _) in ACCOUNTS)
    assert (a1, a2, a3) == (D("1463.89"), D("258.33"), D("73.19"))
    # The counter pool's 100.00 by accounts (c1 two, c2 one): 66.666… and 33.333…; largest
    # remainder gives the last fen to c1.
    c1_pool, c2_pool = D("66.67"), D("33.33")
    c1 = result.customer("c1")
    assert c1["interest_liability"] == a1
    assert c1["interest_asset"] == a2
    assert c1["fees"] == D("120.00")
    assert c1["allocated_costs"] == c1_pool
    assert c1["net_contribution"] == a1 + a2 + D("120.00") - c1_pool == D("1775.55")
    c2 = result.customer("c2")
    assert c2["net_contribution"] == a3 - c2_pool - D("10.00") == D("29.86")
    # c2 has no manager; c1's components split 60/40 each to the fen, the net from them:
    # m1 = 878.33 + 155.00 + 72.00 − 40.00.
    assert result.unassigned["net_contribution"] == D("29.86")
    managers = {r["manager"]: r for r in result.managers.to_pylist()}
    assert managers["m1"]["net_contribution"] == D("1065.33")
    assert managers["m1"]["net_contribution"] + managers["m2"]["net_contribution"] == c1["net_contribution"]
    assert managers["m1"]["customers"] == 1
    # Branches: account lines where booked, c1's fee and costs at its home branch b1.
    branches = {r["branch"]: r["net_contribution"] for r in result.branches.to_pylist()}
    assert branches == {"b1": D("1775.55"), "b2": D("29.86")}
    assert result.legal_entities.to_pylist()[0]["net_contribution"] == D("1805.41")
    stage = result.stages.to_pylist()[0]
    assert (stage["stage"], stage["pool"], stage["amount"], stage["targets"]) == (1, "counter", D("100.00"), 2)


def test_decimals_at_the_edges(result):
    schema = result.customers.schema
    assert schema.field("net_contribution").type == pa.decimal128(38, 2)
    assert schema.field("customer").type == pa.string()
    assert schema.field("month").type == pa.date32()
    lineage = result.lineage.schema
    assert lineage.field("ftp_rate").type == pa.decimal128(38, 10)
    assert lineage.field("amount").type == pa.decimal128(38, 2)
    row = result.customers.to_pylist()[0]
    assert all(isinstance(row[f], Decimal) for f in ("interest_asset", "net_contribution"))
    assert all(isinstance(v, Decimal) for v in result.customer("c1").values())
    line = result.explain("c1")[0]
    assert isinstance(line["amount"], Decimal) and isinstance(line["ftp_rate"], Decimal)
    assert line["ftp_rate"] == D("0.035")


def test_a_float_column_is_refused_naming_it(rules):
    floats = accounts_table()
    floats = floats.set_column(
        floats.schema.get_field_index("average_balance"), "average_balance", pa.array([1.0, 2.0, 3.0], pa.float64())
    )
    with pytest.raises(ContributionError) as e:
        compute(rules, "2024-03", floats)
    assert (e.value.table, e.value.field, e.value.row) == ("account_months", "average_balance", None)
    assert "binary floating-point" in str(e.value)


def test_errors_name_the_row_and_the_field(rules):
    rows = list(ACCOUNTS)
    rows[1] = ("c1", "a2", "loan", "1y", "deposit", D("200000.00"), D("0.0500"), "b1")
    t = accounts_table(rows)
    rates = t.column("customer_rate").to_pylist()
    rates[2] = None
    t = t.set_column(t.schema.get_field_index("customer_rate"), "customer_rate", pa.array(rates, RATE))
    with pytest.raises(ContributionError) as e:
        compute(rules, "2024-03", t)
    err = e.value
    assert isinstance(err, TieringError) and isinstance(err, ValueError)
    assert [(x.kind, x.table, x.row, x.field) for x in err.errors] == [
        ("table", "account_months", 1, "side"),
        ("table", "account_months", 2, "customer_rate"),
    ]
    assert err.errors[0].record == ("account_months", 1)
    assert str(err.errors[0]) == "account_months row 1, column side: `deposit` is not asset or liability"
    assert (err.table, err.row, err.field) == ("account_months", 1, "side")


def test_a_record_error_after_reading(rules):
    t = tables()
    t["assignments"] = pa.table(
        {"customer": ["c1", "c1"], "manager": ["m1", "m2"], "role": ["主办", "协办"], "share": pa.array([60, 30])}
    )
    with pytest.raises(ContributionError) as e:
        compute(rules, "2024-03", accounts_table(), **t)
    assert (e.value.kind, e.value.customer, e.value.field) == ("shares", "c1", "share")
    assert str(e.value) == "customer c1: manager shares sum to 90%, not 100%"


def test_explain_lines_sum_to_the_net(result):
    for customer in ("c1", "c2"):
        lines = result.explain(customer)
        assert lines and all(line["customer"] == customer for line in lines)
        assert sum(line["amount"] for line in lines) == result.customer(customer)["net_contribution"]
    kinds = [line["kind"] for line in result.explain("c1")]
    assert kinds == ["interest_asset", "interest_liability", "fee", "allocated_cost"]
    pool = result.explain("c1")[-1]
    assert (pool["pool"], pool["stage"], pool["driver_quantity"], pool["driver_total"]) == ("counter", 1, 2, 3)
    assert result.explain("nobody") == []


def test_what_if_shifts_the_ftp_rates(rules):
    shift = D("0.001")
    w = what_if(rules, "2024-03", accounts_table(), ftp_shift=shift, **tables())
    # Each account's interest by hand under both rates: liabilities gain, the asset loses.
    expected = {}
    for customer, _, product, _, side, balance, rate, _ in ACCOUNTS:
        before = interest(side, balance, rate, FTP[product])
        after = interest(side, balance, rate, FTP[product] + shift)
        expected[customer] = expected.get(customer, D(0)) + after - before
    # c1: (1550.00 − 1463.89) + (241.11 − 258.33) = 68.89; c2: 77.50 − 73.19 = 4.31.
    assert expected == {"c1": D("68.89"), "c2": D("4.31")}
    changes = {r["customer"]: r for r in w.changes.to_pylist()}
    for customer, delta in expected.items():
        row = changes[customer]
        got = (row["interest_asset_changed"] + row["interest_liability_changed"]) - (
            row["interest_asset_base"] + row["interest_liability_base"]
        )
        assert got == delta
        assert row["net_contribution_delta"] == delta
    assert w.base.customer("c1")["net_contribution"] == D("1775.55")
    # The same change as a replaced rate table.
    rates = pa.table(
        {
            "product": ["demand", "loan"],
            "term": ["none", "1y"],
            "effective": ["2024-01", "2024-01"],
            "rate": pa.array([D("0.0210"), D("0.0360")], RATE),
        }
    )
    w2 = what_if(rules, "2024-03", accounts_table(), ftp_rates=rates, **tables())
    assert w2.changed.customers.equals(w.changed.customers)
    with pytest.raises(TypeError):
        what_if(rules, "2024-03", accounts_table(), **tables())


def test_rules_errors_and_pandas_input(rules, tmp_path):
    with pytest.raises(ContributionError) as e:
        ContributionRules.from_toml("basis = 300\n[ftp]\nrates = []\n")
    assert e.value.kind == "rules" and "basis" in [x.field for x in e.value.errors]
    path = tmp_path / "book.toml"
    path.write_text(BOOK)
    assert ContributionRules.from_path(path).basis == 360
    assert rules.ftp_rates()[0] == {"product": "demand", "term": "none", "effective": "2024-01", "rate": D("0.0200")}
    pd = pytest.importorskip("pandas")
    df = accounts_table().to_pandas()
    assert isinstance(df["average_balance"][0], Decimal)
    r = compute(rules, "2024-03", df)
    assert r.customer("c2")["net_contribution"] == D("73.19")
    with pytest.raises(ContributionError):
        rules.with_ftp_shift(D("2"))
    with pytest.raises(TypeError):
        rules.with_ftp_shift(0.001)
    assert pd is not None


def test_polars_fen_columns_and_integer_months(rules):
    pl = pytest.importorskip("polars")
    accounts = pl.from_arrow(accounts_table())
    # Fees as whole fen in a `_fen` column, the month as the integer 202403: 120.00 for c1.
    fees = pl.DataFrame({"month": [202403], "customer": ["c1"], "amount_fen": [12000]})
    r = compute(rules, "2024-03", accounts, fees=fees)
    assert r.customer("c1")["fees"] == D("120.00")
    # An integer amount outside a `_fen` column is refused (yuan or fen is never guessed).
    with pytest.raises(ContributionError) as e:
        compute(rules, "2024-03", accounts, fees=pl.DataFrame({"month": ["2024-03"], "customer": ["c1"], "amount": [12000]}))
    assert (e.value.table, e.value.field) == ("fees", "amount") and "amount_fen" in str(e.value)


def test_a_tiering_book_reads_the_net_contribution_as_a_measure(result):
    """SPEC 20.11: the month's net contribution given to the tiering book's `contribution`
    measure; 金卡 by AUM or 200.00 of it (rules-spec/contribution-tiering.toml)."""
    import os

    import crm_tiering as ct

    spec = os.path.join(os.path.dirname(__file__), "..", "..", "..", "rules-spec")
    net = result.net_contribution()
    # c1: 1,463.89 + 258.33 (interest) + 120.00 (fee) - 66.67 (counter, 2 of 3 accounts, the
    # remainder fen) = 1,775.55; c2: 73.19 - 33.33 - 10.00 = 29.86.
    assert net == {"c1": D("1775.55"), "c2": D("29.86")}
    aum = pa.table({"customer_id": ["c1", "c2", "c3"], "aum": ["100000", "100000", "300000"]})
    book = ct.load_rules(os.path.join(spec, "contribution-tiering.toml"))
    out = ct.evaluate_portfolio(book, "2024-03", aum, measures={"contribution": net})
    tiers = dict(zip(out.states.column("customer_id").to_pylist(), out.states.column("tier").to_pylist()))
    assert tiers == {"c1": "gold", "c2": None, "c3": "gold"}
    events = out.events.to_pylist()
    c1 = [e for e in events if e["customer_id"] == "c1"]
    assert [(e["kind"], e["measure"], e["measure_value"]) for e in c1] == [("entered", "contribution", D("1775.55"))]
    # Refused with nothing evaluated: a book without the measure, a table giving it too, a range.
    with pytest.raises(TieringError, match="declares no measure `contribution`"):
        ct.evaluate_portfolio(ct.load_rules(None), "2024-03", aum, measures={"contribution": net})
    both = aum.append_column("contribution", pa.array(["1", "2", "3"]))
    with pytest.raises(TieringError, match="measures.contribution"):
        ct.evaluate_portfolio(book, "2024-03", both, measures={"contribution": net})
    with pytest.raises(TypeError):
        ct.evaluate_portfolio(book, "2024-03", aum, measures={"contribution": {"c1": 1775.55}})
    # Ids that match no record (written otherwise): refused, never every record at zero.
    with pytest.raises(TieringError, match="none of the 1 customers"):
        ct.evaluate_portfolio(book, "2024-03", aum, measures={"contribution": {"C000001": D("1")}})
