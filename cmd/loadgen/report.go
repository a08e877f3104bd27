package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/loadgen"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// cpuTicks is the process's user plus system CPU time so far.
func (p *proc) cpuTicks() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields start after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	// utime and stime are fields 14 and 15 of stat; f[0] is field 3.
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// peakRSSMB is the process's peak resident memory (VmHWM).
func (p *proc) peakRSSMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func numCPU() int { return runtime.NumCPU() }

func us(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) }

func signedUS(d time.Duration) string {
	if d >= 0 {
		return "+" + us(d)
	}
	return us(d)
}

func printRows(w io.Writer, rows []row) {
	direct := map[string]row{}
	for _, r := range rows {
		if r.target == "direct" {
			direct[r.rate] = r
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | load | sent | success | refused | answered/s | p50 µs | p99 µs | added p50 / p99 µs | server p99 µs: answered / refused | CPU µs/req | peak RSS MB | records / accepted |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		added := "-"
		if d, ok := direct[r.rate]; ok && r.target != "direct" {
			added = signedUS(r.p50-d.p50) + " / " + signedUS(r.p99-d.p99)
		}
		recs := "-"
		if r.records >= 0 {
			recs = fmt.Sprintf("%d / %d", r.records, r.res.OK)
		}
		refused := us(loadgen.Percentile(r.res.Service, 99)) + " / -"
		if r.res.Refused > 0 {
			refused = us(loadgen.Percentile(r.res.Service, 99)) + " / " + us(loadgen.Percentile(r.res.RefusedService, 99))
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.3f | %d | %.0f | %s | %s | %s | %s | %.0f | %.0f | %s |\n",
			r.target, r.rate, r.res.Sent, r.res.SuccessShare(), r.res.Refused, r.res.Throughput(),
			us(r.p50), us(r.p99), added, refused, r.cpuUS, r.rssMB, recs)
	}
}

// printRatios prints the target ratios from this run's rows.
func printRatios(w io.Writer, rows []row, rates []float64) {
	get := func(target, rate string) (row, bool) {
		for _, r := range rows {
			if r.target == target && r.rate == rate {
				return r, true
			}
		}
		return row{}, false
	}
	ratio := func(a, b float64) string {
		if b <= 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| ratio (same run) | value |")
	fmt.Fprintln(w, "|---|---|")
	for _, rate := range rates {
		label := fmt.Sprintf("%g/s", rate)
		d, okD := get("direct", label)
		named, okN := get("named", label)
		proxy, okP := get("proxy", label)
		if !okD {
			continue
		}
		added := func(r row) (float64, float64) {
			return float64(r.p50 - d.p50), float64(r.p99 - d.p99)
		}
		for _, auto := range []string{"auto-repeated", "auto-distinct"} {
			a, ok := get(auto, label)
			if !ok {
				continue
			}
			a50, a99 := added(a)
			if okN {
				n50, n99 := added(named)
				fmt.Fprintf(w, "| %s added p50 / p99 as a multiple of named's, %s | %s / %s |\n", auto, label, ratio(a50, n50), ratio(a99, n99))
			}
			if okP {
				_, p99 := added(proxy)
				fmt.Fprintf(w, "| %s added p99 as a multiple of the proxy's, %s | %s |\n", auto, label, ratio(a99, p99))
				fmt.Fprintf(w, "| %s CPU per request as a multiple of the proxy's, %s | %s |\n", auto, label, ratio(a.cpuUS, proxy.cpuUS))
			}
		}
	}
	if proxy, ok := get("proxy", "saturation"); ok {
		for _, t := range []string{"named", "auto-repeated", "auto-distinct"} {
			if r, ok := get(t, "saturation"); ok {
				fmt.Fprintf(w, "| %s saturation throughput as a share of the proxy's | %s |\n", t, ratio(r.res.Throughput(), proxy.res.Throughput()))
			}
		}
	}
}
