"""crm_tiering.spark.classify_loans: a loan month over Spark gives exactly what
``loans.classify`` gives over the whole month (customers, signals, states), the month after from
the Spark states too, and the same error when a record is refused.

Generated loans for a few hundred customers: overdue days at every floor boundary (SPEC §21.2:
90/91, 270/271, 360/361), bank classes kinder and harsher than the floor, several loans per
customer, expected-loss ratios, and customers whose loans close the month after (present in the
states only).
"""

import random
from decimal import Decimal

import pytest

import crm_tiering as ct

pa = pytest.importorskip("pyarrow")
pytest.importorskip("pyspark")
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")

from crm_tiering import spark as cts  # noqa: E402
from crm_tiering.loans import classify  # noqa: E402

CLASSES = ["正常", "关注", "次级", "可疑", "损失"]
DAYS = [0, 0, 0, 5, 30, 89, 90, 91, 269, 270, 271, 359, 360, 361, 400]


def loan_rows(month, customers, seed, closed=frozenset()):
    rnd = random.Random(seed)
    rows = []
    for i in range(customers):
        cid = f"L{i:05d}"
        if cid in closed:
            continue
        for k in range(rnd.choice([1, 1, 2, 3])):
            rows.append({
                "customer_id": cid,
                "loan_id": f"{cid}-{k}",
                "month": month,
                "principal_overdue_days": rnd.choice(DAYS),
                "interest_overdue_days": rnd.choice(DAYS[:6]),
                "bank_class": rnd.choice(CLASSES),
                "expected_loss": Decimal(rnd.randrange(0, 10000)) / Decimal(10000) if rnd.random() < 0.3 else None,
                "repayment_due": rnd.random() < 0.8,
            })
    return rows


def table(rows):
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("customer_id", pa.string()), ("loan_id", pa.string()), ("month", pa.string()),
        ("principal_overdue_days", pa.int64()), ("interest_overdue_days", pa.int64()), ("bank_class", pa.string()),
        ("expected_loss", pa.decimal128(9, 4)), ("repayment_due", pa.bool_()),
    ]))


def single(rules, month):
    """The single-process month's outputs in the Spark result's schemas (the core's tables are
    in the canonical order already)."""
    from crm_tiering._spark_loans import _schemas, _tables

    return _tables(month, _schemas(rules, month.month))


def test_a_loan_month_and_the_next_over_spark_equal_the_single_process_path(spark):
    rules = ct.load_rules(None)
    march_rows = loan_rows("2024-03", 400, seed=5)
    march = classify(rules, "2024-03", march_rows)
    got = cts.classify_loans(rules, cts._create(spark, table(march_rows)), month="2024-03", partitions=4)
    try:
        march_spark = got.to_arrow()
        want = single(rules, march)
        for name in ("customers", "results", "signals", "states"):
            assert march_spark[name].equals(want[name]), name
        assert march_spark["signals"].num_rows > 0 and len(set(march_spark["customers"].column("worst").to_pylist())) >= 4
        # April: a tenth of the customers' loans closed (in the states only), the others go on.
        closed = {f"L{i:05d}" for i in range(0, 400, 10)}
        april_rows = loan_rows("2024-04", 400, seed=6, closed=closed)
        april = classify(rules, "2024-04", april_rows, states=march.states)
        april_got = cts.classify_loans(
            rules, cts._create(spark, table(april_rows)), month="2024-04", states=got.states, partitions=3
        )
        april_spark = april_got.to_arrow()
        for name in ("customers", "results", "signals", "states"):
            assert april_spark[name].equals(single(rules, april)[name]), name
        assert closed <= set(april_spark["customers"].column("customer_id").to_pylist())
        april_got.unpersist()
    finally:
        got.unpersist()


def test_a_refused_loan_month_raises_the_single_process_error(spark):
    rules = ct.load_rules(None)
    rows = loan_rows("2024-03", 200, seed=7)
    # Bad records of eight customers, spread over the partitions: the lowest id's is raised,
    # with each refusing partition's first error in .errors.
    bad_customers = {f"L{i:05d}" for i in (42, 57, 88, 101, 150, 163, 177, 199)}
    for k, i in enumerate(i for i, r in enumerate(rows) if r["customer_id"] in bad_customers):
        if k % 2:
            rows[i]["principal_overdue_days"] = -3
        else:
            rows[i]["bank_class"] = "好"
    with pytest.raises(ct.InputError) as want:
        classify(rules, "2024-03", rows)
    with pytest.raises(ct.InputError) as got:
        cts.classify_loans(rules, cts._create(spark, table(rows)), month="2024-03", partitions=4)
    assert (got.value.customer, got.value.field, str(got.value)) == (want.value.customer, want.value.field, str(want.value))
    assert got.value.customer == "L00042"
    listed = {e.customer for e in got.value.errors}
    assert "L00042" in listed and listed <= bad_customers and len(listed) >= 2, listed
