package api

import (
	"os"
	"testing"

	"github.com/fedilens/fedilens/internal/chtest"
)

// TestMain starts the real ClickHouse the post statistics are tested
// against (see internal/chtest): SQL mistakes must show up here, not in
// production.
func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }
