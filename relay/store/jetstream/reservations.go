package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// Blob quota reservations across nodes. A user's upload quota counts the
// blobs stored in the last window (their metadata, BlobUsage) plus the
// uploads in progress. A single relay keeps the latter in memory; in a
// cluster each node's memory sees only its own uploads, so parallel
// uploads through different nodes could together overshoot the quota. So
// the reservations live in the stream, one document per user
// (m.bres.B64(USER)), changed by read, check, write expecting the sequence
// read: of two nodes reserving at once one write fails, rereads (seeing
// the other's reservation) and checks again. A reservation carries an
// expiry, so one whose node died frees itself.

func subjBlobReservations(user string) string { return "m.bres." + b64(user) }

type reservationsJSON struct {
	Held []heldJSON `json:"held"`
}

type heldJSON struct {
	ID      string `json:"id"`
	Bytes   int64  `json:"bytes"`
	Expires int64  `json:"expires"` // ms
}

// reserveRetries bounds a reservation's rereads after another node's write.
const reserveRetries = 20

// ReserveBlobBytes reserves n bytes of an upload by user if the bytes it
// stored since `since` plus its unexpired reservations plus n are within
// quota. ok is false when they are not; oldest is then the oldest blob
// counted (when the quota frees up). The reservation holds until
// ReleaseBlobBytes(id) or expires.
func (s *Store) ReserveBlobBytes(ctx context.Context, user string, n, quota int64, since, now, expires time.Time) (id string, ok bool, oldest time.Time, err error) {
	fail := func(err error) (string, bool, time.Time, error) {
		return "", false, time.Time{}, fmt.Errorf("jetstream store: reserve %d blob bytes of %s: %w", n, user, err)
	}
	id = nuid.Next()
	for try := range reserveRetries {
		doc, at, err := s.loadReservations(ctx, user, now)
		if err != nil {
			return fail(err)
		}
		used, old, err := s.BlobUsage(ctx, user, since)
		if err != nil {
			return fail(err)
		}
		for _, h := range doc.Held {
			used += h.Bytes
		}
		if used+n > quota {
			return "", false, old, nil
		}
		doc.Held = append(doc.Held, heldJSON{ID: id, Bytes: n, Expires: expires.UnixMilli()})
		err = s.storeReservations(ctx, user, doc, at)
		if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) {
			time.Sleep(time.Duration(10*(try+1)) * time.Millisecond) // another node's reservation or release
			continue
		}
		if err != nil {
			return fail(err)
		}
		return id, true, time.Time{}, nil
	}
	return fail(fmt.Errorf("still contended after %d tries", reserveRetries))
}

// ReleaseBlobBytes drops user's reservation id (its upload ended, stored
// or not). An unknown or expired one is not an error.
func (s *Store) ReleaseBlobBytes(ctx context.Context, user, id string, now time.Time) error {
	for try := range reserveRetries {
		doc, at, err := s.loadReservations(ctx, user, now)
		if err != nil {
			return fmt.Errorf("jetstream store: release blob bytes of %s: %w", user, err)
		}
		n := len(doc.Held)
		doc.Held = slices.DeleteFunc(doc.Held, func(h heldJSON) bool { return h.ID == id })
		if len(doc.Held) == n {
			return nil
		}
		err = s.storeReservations(ctx, user, doc, at)
		if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) {
			time.Sleep(time.Duration(10*(try+1)) * time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("jetstream store: release blob bytes of %s: %w", user, err)
		}
		return nil
	}
	return fmt.Errorf("jetstream store: release blob bytes of %s: still contended after %d tries", user, reserveRetries)
}

// BlobReservations returns user's unexpired reservations in bytes (tests,
// metrics).
func (s *Store) BlobReservations(ctx context.Context, user string, now time.Time) (int64, error) {
	doc, _, err := s.loadReservations(ctx, user, now)
	if err != nil {
		return 0, fmt.Errorf("jetstream store: blob reservations of %s: %w", user, err)
	}
	var held int64
	for _, h := range doc.Held {
		held += h.Bytes
	}
	return held, nil
}

// loadReservations reads user's reservations (from the leader), expired
// ones left out, and the sequence they were read at.
func (s *Store) loadReservations(ctx context.Context, user string, now time.Time) (reservationsJSON, uint64, error) {
	e, err := s.getLast(ctx, subjBlobReservations(user))
	if err != nil || !e.live() {
		return reservationsJSON{}, e.seq, err
	}
	var doc reservationsJSON
	if err := json.Unmarshal(e.data, &doc); err != nil {
		return reservationsJSON{}, 0, fmt.Errorf("blob reservations: %w", err)
	}
	doc.Held = slices.DeleteFunc(doc.Held, func(h heldJSON) bool { return h.Expires <= now.UnixMilli() })
	return doc, e.seq, nil
}

func (s *Store) storeReservations(ctx context.Context, user string, doc reservationsJSON, at uint64) error {
	data, _ := json.Marshal(doc)
	if len(doc.Held) == 0 {
		data = []byte(`{"held":[]}`)
	}
	_, err := s.publish(ctx, []*nats.Msg{msg(subjBlobReservations(user), data, seqp(at))})
	return err
}
