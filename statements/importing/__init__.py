"""Reading statement-of-account files and broker-entry files into the database.

Both formats are described in ``docs/formats.md``. Every import follows the same rules:

* **strict**: every row is checked (BN15, 14-digit transaction numbers, ISO dates, amounts with at
  most 2 places and no ``$`` or ``,``, components summing to the amount). A bad row is listed with
  its row number as a spreadsheet shows it (the header is row 1), column, value and reason, up to
  ``STATEMENTS_IMPORT_MAX_ERRORS``, with a count of the rest;
* **all or nothing**: the whole file is written in one transaction, and any bad row rolls it back;
  a refused file leaves only its ``ImportBatch`` row, with the errors;
* **idempotent**: a file is known by its SHA-256; while a batch of it is queued, running or
  accepted, another import of the same bytes is ``AlreadyImported`` and changes nothing;
* **streaming, bounded memory**: the file is read row by row and written in batches of
  ``FLUSH_ROWS`` rows, by PostgreSQL ``COPY`` (psycopg's ``cursor.copy``) or by ``executemany``
  elsewhere. What is held in memory grows with the number of statements and program accounts in a
  file, never with its number of rows.

One module per job, each importing only those below it:

* ``problems``: the bad rows an import lists, and the exceptions that end it;
* ``columns``: each kind's columns, their header aliases, and reading the header row;
* ``reading``: bytes -> SHA-256 and CSV records (strict UTF-8);
* ``values``: amounts, dates, transaction numbers, and why a value is refused;
* ``accounts``: BN15 -> the program accounts the importing user may write to;
* ``copy_writer``: rows into a table (``COPY`` or ``executemany``);
* ``progress``: how far an import has read, on its batch row;
* ``base``: what both importers share, and how the block pass and the careful pass make it fast;
* ``statement_file`` and ``entry_file``: the two importers;
* ``batches``: receiving, claiming and running a batch, and recording its outcome.

Code in this app imports each name from the module that owns it. Other apps and scripts import
from here the in-process entry points: ``import_path`` and ``import_stream`` (answering
``Imported``).
"""

from statements.importing.batches import Imported, import_path, import_stream

__all__ = ["Imported", "import_path", "import_stream"]
