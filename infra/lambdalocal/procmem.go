package lambdalocal

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// BootstrapPeakRSS returns the peak resident set size (VmHWM, in bytes) of
// the function process the emulator runs: what Lambda's "Max Memory Used"
// reports for a function, which the RIE does not measure. Linux only.
func (r *RIE) BootstrapPeakRSS() (int64, error) {
	pgid := r.proc.Pid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, stat := range stats {
		dir := filepath.Dir(stat)
		comm, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "bootstrap" {
			continue
		}
		raw, err := os.ReadFile(stat)
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state ppid pgrp ...; the
		// bootstrap is the emulator's child (or in its process group).
		end := strings.LastIndexByte(string(raw), ')')
		fields := strings.Fields(string(raw[end+1:]))
		if len(fields) < 3 || (fields[1] != strconv.Itoa(pgid) && fields[2] != strconv.Itoa(pgid)) {
			continue
		}
		return vmHWM(filepath.Join(dir, "status"))
	}
	return 0, errors.New("no bootstrap process under the emulator")
}

// vmHWM reads the VmHWM line of a /proc status file.
func vmHWM(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM in " + path)
}
