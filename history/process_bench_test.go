package history_test

// `mimichat import` and `mimichat export` of 100,000 messages measured as
// processes (issues 15 and 18: the goal is the whole process under 2 s):
// the real binary, built once, run on a real data directory with a real
// file, beside the same work done in this process (in-process), in the
// same run. MIMICHAT_CPUPROFILE=FILE makes the binary write a CPU profile
// (the last iteration's); MIMICHAT_BENCH_PROFILE=DIR passes it through.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"mimichat/history"
	"mimichat/history/cache"
	"mimichat/session"
)

// mimichatBinary builds the real binary into the benchmark's temporary
// directory (removed after it), before any timing.
func mimichatBinary(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "mimichat")
	out, err := exec.Command("go", "build", "-o", path, "mimichat").CombinedOutput()
	if err != nil {
		b.Fatal(&buildError{err, out})
	}
	return path
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + string(e.out) }

// big100kFile writes the benchmarks' 100k room as a vCon file.
func big100kFile(b *testing.B) string {
	items := history.Big(b)
	var buf bytes.Buffer
	now := history.T0.Add(24 * time.Hour).UnixMilli()
	if _, err := history.Export(&buf, history.Room{ID: history.RoomURI}, history.SliceSource(items), history.ExportOptions{Format: history.FormatVCon, Now: now}); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "room.vcon.json")
	if keep := os.Getenv("MIMICHAT_BENCH_FILE"); keep != "" {
		path = keep // kept for runs by hand
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// runMimichat runs the binary with args and an environment of its own (no
// user config), and fails the benchmark on a non-zero exit. It returns the
// child's CPU time (user+system), which load inflates less than wall time.
func runMimichat(b *testing.B, bin, home string, args ...string) time.Duration {
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "PATH=" + os.Getenv("PATH")}
	if dir := os.Getenv("MIMICHAT_BENCH_PROFILE"); dir != "" {
		cmd.Env = append(cmd.Env, "MIMICHAT_CPUPROFILE="+filepath.Join(dir, args[0]+".pprof"))
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("mimichat %v: %v\n%s", args, err, out.Bytes())
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// processCPU sums the children's CPU and reports it per op.
type processCPU struct{ total time.Duration }

func (p *processCPU) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(p.total.Seconds()/float64(b.N), "cpu-s/op")
	}
}

// BenchmarkMimichatImport100k: `mimichat import --data-dir D FILE` into a
// new data directory (the room is new), as a process and in-process; then
// (below-*) into a copy of a data directory whose cache holds a run of the
// room's newest messages, so the file merges below it.
// MIMICHAT_BENCH_BELOW_DIR=DIR keeps that data directory for runs by hand.
func BenchmarkMimichatImport100k(b *testing.B) {
	file := big100kFile(b)
	below := belowRunDataDir(b)
	bin := mimichatBinary(b)
	b.Run("process", func(b *testing.B) {
		var cpu processCPU
		for b.Loop() {
			b.StopTimer()
			home := b.TempDir()
			b.StartTimer()
			cpu.total += runMimichat(b, bin, home, "import", "--data-dir", filepath.Join(home, "dd"), file)
		}
		cpu.report(b)
	})
	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := filepath.Join(b.TempDir(), "dd")
			b.StartTimer()
			history.ReportCPU(b, func() { importInProcess(b, dir, file, true) })
		}
	})
	b.Run("below-process", func(b *testing.B) {
		var cpu processCPU
		for b.Loop() {
			b.StopTimer()
			home := b.TempDir()
			copyDataDir(b, below, filepath.Join(home, "dd"))
			b.StartTimer()
			cpu.total += runMimichat(b, bin, home, "import", "--data-dir", filepath.Join(home, "dd"), file)
		}
		cpu.report(b)
	})
	b.Run("below-in-process", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := filepath.Join(b.TempDir(), "dd")
			copyDataDir(b, below, dir)
			b.StartTimer()
			history.ReportCPU(b, func() { importInProcess(b, dir, file, false) })
		}
	})
}

// belowRunSize is how many of the room's newest messages the cached run
// holds; belowRunLow is its first seq (the relay's, far above the file's
// 100,000 so they fit below).
const (
	belowRunSize = 500
	belowRunLow  = 1_000_000
)

// belowRunDataDir writes a data directory whose cache holds the 100k room's
// newest belowRunSize items as a run synced from the relay at belowRunLow
// (through session's own API, as the client's sync commits them): the
// state a member reaches who joined late and then imports the older
// history. The file holds those items too; the import skips them.
func belowRunDataDir(b *testing.B) string {
	items := history.Big(b)
	dir := filepath.Join(b.TempDir(), "below")
	if keep := os.Getenv("MIMICHAT_BENCH_BELOW_DIR"); keep != "" {
		dir = keep
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	st, err := session.OpenStore(filepath.Join(dir, session.StoreFile))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	run := items[len(items)-belowRunSize:]
	entries := make([]session.Entry, len(run))
	for i := range run {
		entries[i] = cache.EntryFromItem(history.RoomURI, uint64(belowRunLow+i), &run[i])
	}
	head := uint64(belowRunLow + len(run) - 1)
	if err := st.SaveRoom(session.Room{ID: history.RoomURI, Low: belowRunLow, Cursor: belowRunLow - 1, Head: head}); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Commit(session.Room{ID: history.RoomURI, Head: head}, entries); err != nil {
		b.Fatal(err)
	}
	return dir
}

// copyDataDir copies the data directory's files (the closed store has no
// WAL left) to a new directory to.
func copyDataDir(b *testing.B, from, to string) {
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		b.Fatal(err)
	}
}

// importInProcess is what the import command does, in this process, into
// a new room (newRoom) or below a cached run.
func importInProcess(b *testing.B, dir, file string, newRoom bool) {
	f, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	st, err := session.OpenStore(filepath.Join(dir, session.StoreFile))
	if err != nil {
		b.Fatal(err)
	}
	if _, _, res, err := cache.ImportFile(st, f, ""); err != nil || res.Imported < 90_000 || res.NewRoom != newRoom {
		b.Fatal(err, res)
	}
	st.Close()
	f.Close()
}

// BenchmarkMimichatExport100k: `mimichat export --room R --format F FILE`
// of the imported room to a real file, as a process and in-process.
func BenchmarkMimichatExport100k(b *testing.B) {
	file := big100kFile(b)
	home := b.TempDir()
	data := filepath.Join(home, "dd")
	bin := mimichatBinary(b)
	runMimichat(b, bin, home, "import", "--data-dir", data, file)
	for _, format := range []string{"vcon", "cpim"} {
		out := filepath.Join(home, "out."+format)
		b.Run(format+"/process", func(b *testing.B) {
			var cpu processCPU
			for b.Loop() {
				cpu.total += runMimichat(b, bin, home, "export", "--data-dir", data, "--room", history.RoomURI, "--format", format, out)
			}
			cpu.report(b)
			reportFileSize(b, out)
		})
		b.Run(format+"/in-process", func(b *testing.B) {
			for b.Loop() {
				history.ReportCPU(b, func() { exportInProcess(b, data, format, out) })
			}
			reportFileSize(b, out)
		})
	}
}

// exportInProcess is what the export command does, in this process.
func exportInProcess(b *testing.B, data, format, out string) {
	st, err := session.OpenStore(filepath.Join(data, session.StoreFile))
	if err != nil {
		b.Fatal(err)
	}
	room, members, _, err := cache.Room(st, history.RoomURI)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	opts := history.ExportOptions{Format: history.Format(format), Now: time.Now().UnixMilli(), Members: members}
	src := cache.NewOnceSource(st, history.RoomURI, filepath.Dir(out))
	defer src.Close()
	if _, err := history.Export(f, room, src.Source(), opts); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st.Close()
}

func reportFileSize(b *testing.B, path string) {
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	}
}
