//go:build tools

// Package tools pins Cortex v1.21.1 as a module dependency, so that scripts/build-cortex.sh can
// build cmd/cortex with Cortex's own replace and exclude lines (copied into this go.mod).
// (`go install github.com/cortexproject/cortex/cmd/cortex@v1.21.1` refuses to build because
// Cortex's go.mod carries replace directives.)
package tools

import (
	_ "github.com/cortexproject/cortex/cmd/cortex"
)
