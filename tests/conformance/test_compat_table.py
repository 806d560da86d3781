"""The README's compatibility table is what this run of the conformance suite saw.

Collected wherever it is, this test runs after every other test of the session (see conftest). Rows this
run completed must read the same in the README; after a run of the whole suite the README may hold no other
rows. Regenerate with `python -m tests.support.compat_table --write` after running the suite.
"""

from __future__ import annotations

import pytest

from tests.conformance.recorder import Recorder, conformance_files
from tests.support import compat_table


def test_the_readme_table_is_this_runs_result(recorder: Recorder) -> None:
    rows = recorder.rows()
    if not rows:
        pytest.skip("no compatibility row was completed in this run (a partial run without them)")
    readme = compat_table.readme_rows()
    fix = "run the conformance suite, then `python -m tests.support.compat_table --write`"
    differ = [f"  run:    {row.line()}\n  README: {readme[row.key].line() if row.key in readme else '(missing)'}"
              for row in rows if readme.get(row.key) != row]
    assert not differ, f"README rows differ from this run ({fix}):\n" + "\n".join(differ)
    if recorder.complete(conformance_files()):
        extra = sorted(set(readme) - {row.key for row in rows})
        assert not extra, f"README rows the suite no longer has ({fix}): {extra}"
