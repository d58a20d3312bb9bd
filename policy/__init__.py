"""CrossGuard policy pack for pachyderm-okta (``pulumi preview --policy-pack policy``)."""
