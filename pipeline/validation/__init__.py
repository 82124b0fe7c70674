"""``edrive validate``: verification, validation and golden-value regression.

- :mod:`pipeline.validation.golden` golden values of the reference designs (compute,
  measured tolerances, store under ``tests/golden/``, compare)
- :mod:`pipeline.validation.extra` loss, efficiency and thermal golden quantities
- :mod:`pipeline.validation.cases` the cases of the report (closed forms, measurements,
  regression)
- :mod:`pipeline.validation.rows`, :mod:`pipeline.validation.report` the report table,
  Markdown and JSON
- :mod:`pipeline.commands.validate` the command line
"""
