from grids.imports import import_staff
from grids.management.commands._csvimport import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import staff and their assignments from a CSV file (username,real_name,phone,email,"
        "role,area_code,department_code,started_at); all rows are validated first."
    )
    importer = staticmethod(import_staff)
