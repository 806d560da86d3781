"""The README cannot drift from the code it describes."""

from __future__ import annotations

from tests.support.settings_table import README, readme_table, render


def test_the_configuration_table_is_the_settings_model() -> None:
    """Regenerate with `python -m tests.support.settings_table --write` after changing a setting."""
    assert readme_table(README.read_text()) == render()
