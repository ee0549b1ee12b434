"""Appointments beside online requests per practice and month (``ingest activity``): the
"looks quiet in appointments" rule (``rule``, pure), the month's figures from Postgres
(``collect`` + ``sql/``), the CSV (``csv_file``) and the ICB page (``page``)."""
