"""Scripts behind the Makefile targets; ``resource_urn`` is importable for its tests."""
