"""Building blocks of the pachyderm-okta program: settings, pure builders and components."""
