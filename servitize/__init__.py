"""Servitize shared kernel: settings, database access, migrations, CLI and embedded services."""

__version__ = "0.1.0"
