"""Sums of money in the database (``carm_portal.money.sum_cents``) against Python's Decimal sum.

PostgreSQL adds the amounts and converts once; SQLite rounds each amount to cents first (its
floats drift): both must give the exact cent total of the rows, filtered or not, of a column or
of an expression, and 0 when there is nothing to add.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.db.models import Q
from django.db.models.functions import Abs

from carm_portal.money import from_cents, sum_cents
from statements.models import StatementLine
from tests.factories import StatementFactory, StatementLineFactory

# Amounts whose float sums drift (0.10 + 0.20), large ones, negatives and single cents.
AMOUNTS = ["0.10", "0.20", "0.30", "1234567.89", "-0.01", "-999.99", "0.07", "33.33", "0.01"]


@pytest.mark.django_db
def test_sum_cents_is_the_exact_decimal_sum():
    statement = StatementFactory()
    rng = random.Random(7)
    amounts = [Decimal(rng.choice(AMOUNTS)) for _ in range(300)]
    for position, amount in enumerate(amounts, start=2):
        line_type = "CAD" if position % 3 else "INT"
        StatementLineFactory(
            statement=statement, position=position, amount=amount, line_type=line_type
        )
    lines = StatementLine.objects.filter(statement=statement)
    row = lines.aggregate(
        all_c=sum_cents("amount"),
        cad_c=sum_cents("amount", filter=Q(line_type="CAD")),
        none_c=sum_cents("amount", filter=Q(line_type="PAY")),
    )
    cad = [a for p, a in enumerate(amounts, start=2) if p % 3]
    assert from_cents(row["all_c"]) == sum(amounts)
    assert from_cents(row["cad_c"]) == sum(cad)
    assert from_cents(row["none_c"]) == Decimal("0.00")
    assert from_cents(row["all_c"]) != Decimal("0.00")  # the figure is not trivially zero

    sized = lines.annotate(size=Abs("amount")).aggregate(c=sum_cents("size"))
    assert from_cents(sized["c"]) == sum(abs(a) for a in amounts)

    grouped = dict(
        lines.order_by()
        .values("line_type")
        .annotate(c=sum_cents("amount"))
        .values_list("line_type", "c")
    )
    assert from_cents(grouped["CAD"]) == sum(cad)
    assert from_cents(grouped["INT"]) == sum(amounts) - sum(cad)
    assert int(grouped["CAD"]) == int(sum(cad) * 100)  # whole cents, as callers read them
