package multiserver

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the server if the test binary dies first (a panic, a timeout), so that no
// server outlives the tests.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
