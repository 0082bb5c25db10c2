package emulator

import "syscall"

// sysProcAttr puts each emulator in its own process group, so stopping it
// reaches anything it started, and has Linux kill it if we die first (a test
// binary killed by its -timeout never runs Close).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
