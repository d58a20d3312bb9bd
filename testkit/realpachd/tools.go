//go:build tools

package realpachd

import (
	_ "github.com/pachyderm/pachyderm/v2/src/server/cmd/pachctl"
	_ "github.com/pachyderm/pachyderm/v2/src/server/cmd/pachd"
)
