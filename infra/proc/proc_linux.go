package proc

import "syscall"

// sysProcAttr puts the process in its own group, so stopping it reaches
// anything it started, and has Linux kill it if we die first (a test binary
// killed by its -timeout runs no cleanup).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
