//go:build !unix

package ui

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
