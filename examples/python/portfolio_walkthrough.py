# %% [markdown]
# # crm_tiering for analysts: a portfolio over 24 months
#
# Generates a synthetic portfolio (exact `Decimal` AUM, never float), evaluates 24 months,
# plots the tier distribution over time and the migration matrix, explains one customer and
# sizes a rule change (entry threshold 200,000 -> 300,000) with `simulate`.
#
# Run: `python examples/python/portfolio_walkthrough.py [OUT_DIR]` (plots go to OUT_DIR,
# default `out/python-example`).

# %%
import os
import random
import sys
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pyarrow as pa  # noqa: E402

import crm_tiering as ct  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "out/python-example"
os.makedirs(OUT, exist_ok=True)
rules = ct.load_rules()
print(rules, [(t["code"], t["name_zh"], str(t["min_aum"])) for t in rules.tiers()])

# %% [markdown]
# ## A portfolio: 5,000 customers, 24 months of monthly daily-average AUM (月日均)

# %%
rnd = random.Random(2024)
MONTHS = [f"{2023 + (i // 12)}-{i % 12 + 1:02d}" for i in range(24)]
ids, months, aums = [], [], []
for i in range(5000):
    level = Decimal(rnd.choice([30_000, 150_000, 190_000, 260_000, 450_000, 800_000, 1_500_000, 4_000_000]))
    for m in MONTHS:
        level = (level * Decimal(rnd.choice(["0.7", "0.9", "0.97", "1", "1.03", "1.1", "1.4"]))).quantize(Decimal("0.01"))
        ids.append(f"622100{i:06d}")
        months.append(m)
        aums.append(level)
history = pa.table({"customer_id": ids, "month": months, "aum": pa.array(aums, pa.decimal128(20, 2))})
print(history.num_rows, "customer-months; aum column type:", history.schema.field("aum").type)

# %% [markdown]
# ## Evaluate 24 months

# %%
result = ct.replay_portfolio(rules, history)
states = result.states.to_pandas()
events = result.events.to_pandas()
print(states.head())
print(events["kind_zh"].value_counts())
assert isinstance(states["aum"].iloc[0], Decimal)  # exact all the way

# %% [markdown]
# ## Tier distribution over time (effective tier; 非VIP for customers who are not VIPs)
#
# Months in the output tables are `datetime.date`s (the month's first day). The tier evaluated
# from month M's AUM takes effect in M+1, so the plots put each standing at the month it is in
# force and say so on the axis.

# %%
import pandas as pd  # noqa: E402


def effective(month):
    """The month a standing evaluated in `month` is in force: the month after."""
    return (pd.to_datetime(month) + pd.offsets.MonthBegin(1)).dt.strftime("%Y-%m")


order = [t["code"] for t in rules.tiers()]
# Code columns are pandas categoricals over the rule book's codes: add the label before filling.
states["tier_shown"] = states["effective_tier"].cat.add_categories(["not VIP"]).fillna("not VIP")
states["effective_month"] = effective(states["month"])
dist = states.pivot_table(index="effective_month", columns="tier_shown", values="customer_id", aggfunc="count", observed=False).fillna(0)
dist = dist[[c for c in ["not VIP"] + order if c in dist.columns]]
ax = dist.plot.area(figsize=(11, 5), title="Customers per tier, month by month")
ax.set_ylabel("customers")
ax.set_xlabel("month the tier is in force (evaluated on the month before's AUM)")
# Outside the plot: a legend inside an area chart hides the last months.
ax.legend(title="effective tier", loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.tight_layout()
plt.savefig(os.path.join(OUT, "tier_distribution.png"), dpi=100)
plt.close()

# %% [markdown]
# ## Migration matrix: first month vs last month

# %%
first_in_force, last_in_force = states["effective_month"].min(), states["effective_month"].max()
first = states[states["effective_month"] == first_in_force].set_index("customer_id")["tier_shown"]
last = states[states["effective_month"] == last_in_force].set_index("customer_id")["tier_shown"]
labels = ["not VIP"] + order
matrix = [[int(((first == a) & (last == b)).sum()) for b in labels] for a in labels]
fig, ax = plt.subplots(figsize=(7, 6))
ax.imshow(matrix, cmap="Blues")
ax.set_xticks(range(len(labels)), labels, rotation=30)
ax.set_yticks(range(len(labels)), labels)
ax.set_xlabel(f"tier in force in {last_in_force} (evaluated on {MONTHS[-1]})")
ax.set_ylabel(f"tier in force in {first_in_force} (evaluated on {MONTHS[0]})")
for i, row in enumerate(matrix):
    for j, v in enumerate(row):
        ax.text(j, i, str(v), ha="center", va="center")
ax.set_title("Tier migration")
plt.tight_layout()
plt.savefig(os.path.join(OUT, "migration_matrix.png"), dpi=100)
plt.close()
print(matrix)

# %% [markdown]
# ## Explain one customer: a downgraded one if there is one
#
# `explain` takes the long table and picks the customer.

# %%
downgraded = events[events["kind"] == "downgraded"]["customer_id"]
who = downgraded.iloc[0] if len(downgraded) else ids[0]
story = ct.explain(rules, history, customer=who).to_pandas()
print(who)
print(story[["month", "aum", "status_zh", "tier", "events_zh", "story"]].to_string())

# %% [markdown]
# ## Size a rule change: entry (金卡) at 300,000 instead of 200,000
#
# A rule-book edit is a value (`with_tier_minimum`, `with_setting`): a new, validated book.
# The CLI gives the same tables: `crm-tiering simulate --rules-a A --rules-b B --month RANGE
# --aum FILE --out DIR`.

# %%
sim = ct.simulate(rules, rules.with_tier_minimum("gold", Decimal("300000")), history)
counts = sim.counts.to_pandas()
counts["effective_month"] = effective(counts["month"])
last_month = counts[counts["effective_month"] == counts["effective_month"].max()]
print(last_month.to_string(index=False))
print(sim.summary().splitlines()[-1])
print("customer-months in a different tier:", sim.changes.num_rows)
fig, ax = plt.subplots(figsize=(11, 4))
gold = counts[counts["tier"] == "gold"].set_index("effective_month")
ax.plot(gold.index, gold["count_a"], label="entry 200,000")
ax.plot(gold.index, gold["count_b"], label="entry 300,000")
ax.set_title("Gold (entry tier) customers under both rule books")
ax.set_xlabel("month the tier is in force (evaluated on the month before's AUM)")
ax.set_ylabel("customers")
ax.tick_params(axis="x", rotation=60)
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.tight_layout()
plt.savefig(os.path.join(OUT, "threshold_change.png"), dpi=100)
plt.close()
print("plots written to", OUT)
