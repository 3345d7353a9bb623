"""Trigram (pg_trgm) GIN indexes for the case list's search (selectors.search_q), on
PostgreSQL only: SQLite, the zero-setup run, has no such index and searches its few
thousand cases by scanning.

Django writes `icontains` as `UPPER(column::text) LIKE UPPER(%s)`, so the indexes are on
that expression; pg_trgm splits Chinese text into trigrams like any other, so a search for
three or more characters (a name and a given name, a road, a phone fragment) is an index
lookup. Not declared on the models (Django's index options cannot say "PostgreSQL only")."""

from django.db import migrations

INDEXES = {
    "case_number_trgm": ("disputes_case", "number"),
    "case_cause_trgm": ("disputes_case", "cause"),
    "case_description_trgm": ("disputes_case", "description"),
    "case_address_trgm": ("disputes_case", "address"),
    "party_name_trgm": ("disputes_party", "name"),
    "party_phone_trgm": ("disputes_party", "phone"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Django's TrigramExtension operation asks pg_extension even on SQLite; this does not.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("disputes", "0023_list_indexes")]

    operations = [migrations.RunPython(create, drop)]
