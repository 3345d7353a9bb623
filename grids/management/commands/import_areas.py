from grids.imports import import_areas
from grids.management.commands._csvimport import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import areas from a CSV file (code,name,level,parent_code[,households,dedicated_kind,"
        "latitude,longitude]); all rows are validated before anything is written."
    )
    importer = staticmethod(import_areas)
