//go:build unix && !linux

package proc

import "syscall"

// sysProcAttr puts the process in its own group, so stopping it reaches
// anything it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
