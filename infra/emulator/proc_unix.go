//go:build unix && !linux

package emulator

import "syscall"

// sysProcAttr puts each emulator in its own process group, so stopping it
// reaches anything it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
