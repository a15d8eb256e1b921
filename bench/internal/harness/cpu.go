package harness

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the tick counts in /proc: USER_HZ is part of
// Linux's ABI and 100 on every architecture Go runs Linux on.
const userHZ = 100

// CPUTime is the processor time (user and system, all threads) that the
// process pid has used so far, from /proc/<pid>/stat.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time of %d: %w", pid, err)
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// the fields after it start with field 3, the state.
	i := strings.LastIndexByte(string(b), ')')
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("cpu time of %d: short stat line", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime and stime, fields 14 and 15
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time of %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// CoreTimes are the busy and total ticks of each core, from /proc/stat.
type CoreTimes map[int]coreTicks

type coreTicks struct{ busy, total int64 }

// ReadCoreTimes reads every core's counters now.
func ReadCoreTimes() (CoreTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, fmt.Errorf("core times: %w", err)
	}
	cores := CoreTimes{}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		var t [8]int64 // user nice system idle iowait irq softirq steal
		for k := range t {
			t[k], _ = strconv.ParseInt(f[1+k], 10, 64)
		}
		busy := t[0] + t[1] + t[2] + t[5] + t[6] + t[7]
		cores[n] = coreTicks{busy: busy, total: busy + t[3] + t[4]}
	}
	return cores, nil
}

// Busy is the share of core's time between since and c that something
// ran on it.
func (c CoreTimes) Busy(since CoreTimes, core int) float64 {
	total := c[core].total - since[core].total
	if total <= 0 {
		return 0
	}
	return float64(c[core].busy-since[core].busy) / float64(total)
}

// Pin binds every thread of the process pid to cpus (taskset's list
// form, "0" or "0,1"); threads it starts later inherit the binding.
func Pin(pid int, cpus string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pin %d to cpu %s: %v: %s", pid, cpus, err, out)
	}
	return nil
}
