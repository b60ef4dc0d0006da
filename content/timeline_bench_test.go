package content

// Benchmarks over a synthetic 1,000,000-message room: 70% text (some
// replies, some in topics), 10% reactions, 10% edits, 5% deletes, 5%
// receipts. Every message is encoded, decoded and given its real -08 ID
// before the timer starts.
//
//	go test ./content/ -run '^$' -bench Timeline -benchmem -benchtime 1x -count 5
//
// BenchmarkTimelineApply: apply of pre-decoded messages (decode excluded).
// BenchmarkTimelineDecodeApply: the envelopes carry only Raw; Apply decodes.
// BenchmarkTimelineMemory: heap held per message beyond its raw bytes.

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const benchRoomSize = 1_000_000

var (
	benchOnce sync.Once
	benchEnvs []Envelope
)

func benchRoom(b *testing.B) []Envelope {
	benchOnce.Do(func() { benchEnvs = genBenchRoom(b, benchRoomSize, 1) })
	return benchEnvs
}

// genBenchRoom makes n envelopes of mixed traffic. Targets are chosen among
// the last 1000 live messages, as people react to and edit recent messages.
func genBenchRoom(tb testing.TB, n int, seed uint64) []Envelope {
	rng := rand.New(rand.NewPCG(seed, 99))
	r := &tlRoom{t: tb, salts: seed << 32} // distinct salts across batches
	users := make([]string, 50)
	for i := range users {
		users[i] = "mimi://example.com/u/user" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	words := strings.Fields("the quick brown fox jumps over a lazy dog while we ship the release candidate tonight")
	text := func() string {
		var sb strings.Builder
		for k := 2 + rng.IntN(25); k > 0; k-- {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteByte(' ')
		}
		return sb.String()
	}
	type head struct {
		id     MessageID
		sender string
		parent *MessageID // an edit keeps the reply relation
	}
	var recent []head
	envs := make([]Envelope, 0, n)
	for len(envs) < n {
		u := users[rng.IntN(len(users))]
		k := rng.IntN(100)
		if len(recent) == 0 {
			k = 0
		}
		var m *Message
		isHead := false
		switch {
		case k < 70:
			m = tlText(text())
			if len(recent) > 0 && rng.IntN(5) == 0 {
				p := recent[rng.IntN(len(recent))].id
				m.InReplyTo = &p
			}
			if rng.IntN(10) == 0 {
				m.TopicID = []byte("topic-" + string(rune('a'+rng.IntN(20))))
			}
			isHead = true
		case k < 80:
			m = tlReact(recent[rng.IntN(len(recent))].id, []string{"👍", "❤", "🎉", "😂"}[rng.IntN(4)])
			if rng.IntN(4) == 0 {
				m = tlReacts(recent[rng.IntN(len(recent))].id, "🥳", "🤞")
			}
		case k < 90:
			h := recent[rng.IntN(len(recent))]
			m, u = tlEdit(h.id, text()), h.sender
			m.InReplyTo = h.parent
		case k < 95:
			i := rng.IntN(len(recent))
			h := recent[i]
			m, u = tlDelete(h.id), h.sender
			recent[i] = recent[len(recent)-1]
			recent = recent[:len(recent)-1]
		default:
			var es []StatusEntry
			for range 1 + rng.IntN(3) {
				es = append(es, StatusEntry{ID: recent[rng.IntN(len(recent))].id, Status: StatusRead})
			}
			m = tlReceipt(tb, es...)
		}
		e := r.env(u, m)
		if isHead {
			if len(recent) == 1000 {
				recent[rng.IntN(1000)] = head{e.ID, u, m.InReplyTo}
			} else {
				recent = append(recent, head{e.ID, u, m.InReplyTo})
			}
		}
		envs = append(envs, e)
	}
	return envs
}

// cpuMeter reports CPU ns per message next to wall ns/op: the machine is
// shared, and CPU time is what the timeline costs whatever else runs.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter { d, ok := processCPU(); return cpuMeter{d, ok} }

func (m cpuMeter) report(b *testing.B, n int) {
	if end, ok := processCPU(); ok && m.ok {
		per := float64(end-m.start) / float64(n)
		b.ReportMetric(per, "cpu-ns/msg")
		b.ReportMetric(1e9/per, "cpu-msgs/s")
	}
}

func BenchmarkTimelineApply(b *testing.B) {
	envs := benchRoom(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	var tl *Timeline
	for i := 0; i < b.N; i++ {
		j := i % len(envs)
		if j == 0 {
			b.StopTimer()
			tl = NewTimeline(TimelineOptions{LocalUser: "mimi://example.com/u/useraa"})
			b.StartTimer()
		}
		tl.Apply(envs[j])
	}
	b.StopTimer()
	cpu.report(b, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkTimelineDecodeApply(b *testing.B) {
	envs := benchRoom(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	var tl *Timeline
	for i := 0; i < b.N; i++ {
		j := i % len(envs)
		if j == 0 {
			b.StopTimer()
			tl = NewTimeline(TimelineOptions{LocalUser: "mimi://example.com/u/useraa", Decode: Decode})
			b.StartTimer()
		}
		e := envs[j]
		e.Msg = nil
		tl.Apply(e)
	}
	b.StopTimer()
	cpu.report(b, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkTimelineMemory builds the room in batches, applies each batch and
// drops it, so what stays on the heap is what the timeline holds (records,
// tables, aggregates, and whatever it keeps of the decoded messages).
// B/msg-overhead = (heap after - heap before - retained raw bytes) / N.
func BenchmarkTimelineMemory(b *testing.B) {
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tl := NewTimeline(TimelineOptions{LocalUser: "mimi://example.com/u/useraa"})
		const batch = 50_000
		for s := uint64(0); s < benchRoomSize/batch; s++ {
			b.StopTimer()
			envs := genBenchRoomBatch(b, batch, s)
			b.StartTimer()
			for _, e := range envs {
				tl.Apply(e)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		raw := 0
		tl.mu.RLock()
		for i := uint32(0); i < tl.recs.n; i++ {
			raw += len(tl.recs.at(i).raw)
		}
		tl.mu.RUnlock()
		n := float64(benchRoomSize)
		b.ReportMetric((float64(after.HeapAlloc)-float64(before.HeapAlloc)-float64(raw))/n, "B/msg-overhead")
		b.ReportMetric(float64(raw)/n, "B/msg-raw")
		runtime.KeepAlive(tl)
	}
}

// genBenchRoomBatch continues one long room in fixed batches: batch s is
// the s-th slice of the same traffic mix (targets stay within the batch).
func genBenchRoomBatch(tb testing.TB, n int, s uint64) []Envelope {
	envs := genBenchRoom(tb, n, 1000+s)
	for i := range envs {
		envs[i].Seq += s * uint64(n)
	}
	return envs
}

// BenchmarkTimelineReadFrame reads what a UI draws per frame from the full
// 1M-message room: 50 rows at the end, each with its reactions and parent.
func BenchmarkTimelineReadFrame(b *testing.B) {
	envs := benchRoom(b)
	tl := NewTimeline(TimelineOptions{LocalUser: "mimi://example.com/u/useraa"})
	for _, e := range envs {
		tl.Apply(e)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tl.Read(func(v View) {
			n := v.Len()
			for i := n - 50; i < n; i++ {
				it := v.At(i)
				v.Reactions(it.ID)
				if !it.ReplyTo.IsZero() {
					v.Parent(it.ID)
				}
			}
		})
	}
}

// BenchmarkTimelineSmallRooms: the heap of 1,000 rooms of 100 messages each,
// what a user in many small rooms holds (the daily-driver issue's 1,000-room
// figure). The rooms share one set of envelopes, so B/room is the heap of the
// timeline structures alone.
func BenchmarkTimelineSmallRooms(b *testing.B) {
	const rooms, perRoom = 1000, 100
	envs := genBenchRoom(b, perRoom, 7)
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tls := make([]*Timeline, rooms)
		for i := range tls {
			tls[i] = NewTimeline(TimelineOptions{LocalUser: "mimi://example.com/u/useraa"})
			for _, e := range envs {
				tls[i].Apply(e)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric((float64(after.HeapAlloc)-float64(before.HeapAlloc))/rooms, "B/room")
		runtime.KeepAlive(tls)
	}
}
