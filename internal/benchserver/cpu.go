package benchserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// clockTicks is the unit of /proc/PID/stat's CPU times (USER_HZ), 100 on every Linux Go runs on.
const clockTicks = 100

// CPUTime returns the CPU time (user and system) a process has used so far, from /proc.
func CPUTime(pid int) (time.Duration, error) {
	stat, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	return stat.cpu, nil
}

type procStat struct {
	ppid int
	cpu  time.Duration
}

// readStat reads a process's parent and CPU time from /proc/PID/stat; the command name, in parentheses, may
// hold spaces, so the fields are counted from its closing parenthesis.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state), so field n is f[n-3]
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ppid, _ := strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return procStat{ppid: ppid, cpu: time.Duration(utime+stime) * time.Second / clockTicks}, nil
}

// PostgresCPU measures the CPU time of a PostgreSQL server running on this machine: its postmaster and every
// process it started (backends, WAL writer, checkpointer), found from a backend's parent.
type PostgresCPU struct{ postmaster int }

// NewPostgresCPU finds the postmaster of the server at url, which must run on this machine.
func NewPostgresCPU(url string) (*PostgresCPU, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return nil, err
	}
	stat, err := readStat(backend)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL's processes are not on this machine: %w", err)
	}
	return &PostgresCPU{postmaster: stat.ppid}, nil
}

// Times returns the CPU time used so far by each of the server's processes, by process ID.
func (p *PostgresCPU) Times() (map[int]time.Duration, error) {
	out := map[int]time.Duration{}
	stat, err := readStat(p.postmaster)
	if err != nil {
		return nil, err
	}
	out[p.postmaster] = stat.cpu
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		// A process that ended meanwhile has no stat to read any more: it is not counted.
		if s, err := readStat(pid); err == nil && s.ppid == p.postmaster {
			out[pid] = s.cpu
		}
	}
	return out, nil
}

// Since returns the CPU time used by the server's processes since before (from Times): what each process that
// still runs used since, or in all if it started since. A process that ended meanwhile is not counted.
func (p *PostgresCPU) Since(before map[int]time.Duration) (time.Duration, error) {
	now, err := p.Times()
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for pid, t := range now {
		sum += t - before[pid]
	}
	return sum, nil
}
