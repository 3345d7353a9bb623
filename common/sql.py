"""Query shapes the ORM does not write by itself, for conditions that must use an index."""

from django.db.models import BooleanField, Func


class InSubquery(Func):
    """`column IN (subquery)` that PostgreSQL can still serve from indexes inside an OR.

    A plain `IN (SELECT …)` OR-ed with other conditions becomes a per-row (hashed) subplan
    filter, which no index can serve, so the whole OR turns into a sequential scan. On
    PostgreSQL this is written `column = ANY(ARRAY(subquery))`: the subquery runs once, as an
    InitPlan, and the comparison with its array is an index condition that a BitmapOr combines
    with the other branches. Elsewhere (SQLite) it is the plain `IN`.

    Usage: `Q(InSubquery(F("pk"), Subquery(qs.values("case_id"))))`."""

    output_field = BooleanField()
    conditional = True

    def as_sql(self, compiler, connection, **extra_context):
        column, subquery = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        return f"{column_sql} IN {subquery_sql}", (*column_params, *subquery_params)

    def as_postgresql(self, compiler, connection, **extra_context):
        column, subquery = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        return (
            f"{column_sql} = ANY(ARRAY{subquery_sql})",
            (*column_params, *subquery_params),
        )
