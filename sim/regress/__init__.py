# Ref: docs/regress.md
"""Regression campaigns (``pacsim regress``): cells declared as data, run on Ray,
results and functional coverage in DuckDB, an HTML report.

Modules: :mod:`.campaign` (campaign files, their axes and cells),
:mod:`.cells` (running one cell), :mod:`.coverage` (declared bins and
sampling), :mod:`.results` (the DuckDB file), :mod:`.html_report`,
:mod:`.ray_runner` (the campaign on Ray) and :mod:`.command` (the command
line). The test-only fault and worker kill are in :mod:`pacsim.sim.test_fault`.
"""
