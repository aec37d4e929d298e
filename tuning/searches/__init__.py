"""The shipped search definitions (``*.yaml``), installed as package data (see setup.py)."""
