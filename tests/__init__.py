"""Tests of the pachyderm-okta program (run with `make test`)."""
