package relay

import (
	"testing"
	"time"

	"mimichat/proto"
)

// TestRawSubscriberOutlivesWelcomeDeadline: the benchmarks' subscribers
// keep counting after connect's 5 s welcome deadline has passed. They did
// not, and every benchmark run longer than 5 s failed although the relay had
// delivered everything.
func TestRawSubscriberOutlivesWelcomeDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 5.5 s")
	}
	s := startRelay(t, Config{})
	ownerTok := addUser(t, s.Store(), "owner")
	owner, err := connect(s.Addr(), ownerTok)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.close()
	r, err := owner.call(&proto.CreateRoom{RID: 1, Room: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	room := r.(*proto.OK).Room
	sub := subscribeRaw(t, s.Addr(), ownerTok, room, 0)
	defer sub.ws.Close()
	time.Sleep(5500 * time.Millisecond)
	m := message(t, owner.user, room, "after the deadline")
	m.RID = 2
	if _, err := owner.call(m); err != nil {
		t.Fatal(err)
	}
	// The log holds create and the message.
	if !waitCount([]*rawSubscriber{sub}, 2, time.Now().Add(10*time.Second)) {
		t.Fatalf("subscriber counted %d events; its reads ended at the welcome's deadline", sub.events.Load())
	}
}
