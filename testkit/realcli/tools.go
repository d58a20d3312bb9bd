//go:build tools

package realcli

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
