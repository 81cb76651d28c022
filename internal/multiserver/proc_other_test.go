//go:build !linux

package multiserver

import "os/exec"

// dieWithParent does nothing where the kernel has no parent-death signal: the tests' cleanups stop the servers.
func dieWithParent(*exec.Cmd) {}
