"""The project's name (``name`` in Pulumi.yaml): the namespace of its own stack config keys."""

PROJECT = "pachyderm-okta"
