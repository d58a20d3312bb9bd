"""Tests of the CrossGuard policy pack (run with ``python -m pytest policy``)."""
