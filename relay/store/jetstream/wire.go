package jetstream

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// JetStream API error codes the store tells apart.
const (
	codeNoMessage         = 10037 // no message found
	codeWrongLastSeq      = 10071 // expected-last-sequence check failed
	codeDuplicateConflict = 10158 // a Nats-Msg-Id is in a batch being stored now
	codeWrongLastSeqConst = 10164
	codeBatchDuplicate    = 10201 // an atomic batch holds a known Nats-Msg-Id
	codeUnavailable       = 10008 // JetStream system temporarily unavailable (no leader yet)
	// codeStreamNotFound: only the meta leader says so, when its assignments
	// lack the stream: for the store's own stream (Open found or created
	// it), a meta leader elected a moment ago that has not applied the
	// stream's creation yet, so it is retried like an election.
	codeStreamNotFound = 10059
)

// Headers the store sets.
const (
	hdrMsgID       = "Nats-Msg-Id"
	hdrExpectSubj  = "Nats-Expected-Last-Subject-Sequence"
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
	hdrStreamSeq   = "Nats-Sequence"
	hdrStreamSubj  = "Nats-Subject"
	hdrStatus      = "Status"
	hdrUpToSeq     = "Nats-UpTo-Sequence" // a multi_last answer's end: the stream sequence it covers
	hdrNumPending  = "Nats-Num-Pending"
	requestTimeout = 10 * time.Second
	// attemptTimeout bounds one request to the stream leader. A leader
	// that died answers nothing (the other replicas ignore requests meant
	// for the leader), so a request waits for its timeout: reads retry
	// after attemptTimeout (reaching the new leader once one is elected,
	// see raft_timing.go) until requestTimeout, and a publish fails after
	// publishTimeout so that the writer refuses the batch (its clients
	// retry) instead of holding every room for the whole requestTimeout.
	attemptTimeout  = 1 * time.Second
	publishTimeout  = 3 * time.Second
	deletedPayload  = "" // a key's removal: an empty message
	maxDirectFanout = 16 // direct gets in flight for one read
)

// apiError is a JetStream API error.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("jetstream: %s (%d)", e.Description, e.ErrCode)
}

// isAPI reports whether err is a JetStream API error with one of codes
// (any code when none is given).
func isAPI(err error, codes ...int) bool {
	var ae *apiError
	if !errors.As(err, &ae) {
		return false
	}
	if len(codes) == 0 {
		return true
	}
	for _, c := range codes {
		if ae.ErrCode == c {
			return true
		}
	}
	return false
}

// b64 encodes a URI or name as one subject token.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func unb64(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err
}

func subjRoom(room string) string         { return "m.room." + b64(room) }
func subjMember(room, user string) string { return "m.mem." + b64(room) + "." + b64(user) }
func subjHead(room string) string         { return "m.head." + b64(room) }
func subjEvent(room string, seq uint64) string {
	return "m.ev." + b64(room) + "." + strconv.FormatUint(seq, 10)
}
func subjKey(room string, key []byte) string {
	return "m.key." + b64(room) + "." + hex.EncodeToString(key)
}
func subjUser(name string) string        { return "m.user." + b64(name) }
func subjURI(uri string) string          { return "m.uri." + b64(uri) }
func subjToken(hash []byte) string       { return "m.tok." + hex.EncodeToString(hash) }
func subjBlob(id string) string          { return "m.blob." + b64(id) }
func subjKeyPackages(user string) string { return "m.kp." + b64(user) }
func subjDevice(uri string) string       { return "m.dev." + b64(uri) }

const subjDomain = "m.meta.domain"

// entry is the newest message of one subject.
type entry struct {
	data []byte
	hdr  nats.Header
	seq  uint64 // stream sequence; 0: the subject has no message
}

// live reports whether the entry holds a value (not absent, not removed).
func (e entry) live() bool { return e.seq != 0 && len(e.data) > 0 }

// getLast reads subject's newest message from the stream leader (the read
// the writer's checks rely on: a follower could lag).
func (s *Store) getLast(ctx context.Context, subject string) (entry, error) {
	req, _ := json.Marshal(map[string]string{"last_by_subj": subject})
	return s.msgGet(ctx, req, subject)
}

func (s *Store) msgGet(ctx context.Context, req []byte, what string) (entry, error) {
	var resp *nats.Msg
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		resp, err = s.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+s.stream, req)
		if err == nil && bytes.Contains(resp.Data, []byte(`"err_code":10008`)) {
			err = &apiError{ErrCode: codeUnavailable, Description: "JetStream system temporarily unavailable"}
		}
		if err == nil && bytes.Contains(resp.Data, []byte(`"err_code":10059`)) {
			err = &apiError{ErrCode: codeStreamNotFound, Description: "stream not found"}
		}
		return err
	})
	if err != nil {
		return entry{}, fmt.Errorf("get %s: %w", what, err)
	}
	var r struct {
		Error   *apiError `json:"error"`
		Message *struct {
			Seq  uint64 `json:"seq"`
			Hdrs []byte `json:"hdrs"`
			Data []byte `json:"data"`
		} `json:"message"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return entry{}, fmt.Errorf("get %s: %w", what, err)
	}
	if r.Error != nil {
		if r.Error.ErrCode == codeNoMessage {
			return entry{}, nil
		}
		return entry{}, fmt.Errorf("get %s: %w", what, r.Error)
	}
	if r.Message == nil {
		return entry{}, fmt.Errorf("get %s: empty answer", what)
	}
	e := entry{data: r.Message.Data, seq: r.Message.Seq}
	if len(r.Message.Hdrs) > 0 {
		e.hdr = parseHeaders(r.Message.Hdrs)
	}
	return e, nil
}

// parseHeaders reads a NATS/1.0 header block.
func parseHeaders(b []byte) nats.Header {
	h := nats.Header{}
	lines := strings.Split(string(b), "\r\n")
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return h
}

// directRange reads up to max messages on filter from stream sequence
// start on, in one direct-get batch request (served by any replica).
func (s *Store) directRange(ctx context.Context, filter string, start uint64, max int) ([]entry, error) {
	if max <= 0 {
		return nil, nil
	}
	// A replica that is stopped or cut off answers nothing: ask again
	// (another replica, or the same once it is back).
	var out []entry
	err := s.retryEach(ctx, 2*attemptTimeout, func(ctx context.Context) error {
		var err error
		out, err = s.directRangeOnce(ctx, filter, start, max)
		return err
	})
	return out, err
}

func (s *Store) directRangeOnce(ctx context.Context, filter string, start uint64, max int) ([]entry, error) {
	inbox := s.nc.NewInbox()
	sub, err := s.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filter, err)
	}
	defer sub.Unsubscribe()
	req, _ := json.Marshal(struct {
		Seq   uint64 `json:"seq"`
		Next  string `json:"next_by_subj"`
		Batch int    `json:"batch"`
	}{start, filter, max})
	if err := s.nc.PublishRequest("$JS.API.DIRECT.GET."+s.stream, inbox, req); err != nil {
		return nil, fmt.Errorf("read %s: %w", filter, err)
	}
	var out []entry
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", filter, err)
		}
		if st := m.Header.Get(hdrStatus); st != "" {
			switch st {
			case "204": // end of batch
				return out, nil
			case "404":
				return out, nil
			default:
				return nil, fmt.Errorf("read %s: status %s %s", filter, st, m.Header.Get("Description"))
			}
		}
		seq, err := strconv.ParseUint(m.Header.Get(hdrStreamSeq), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read %s: bad sequence header", filter)
		}
		out = append(out, entry{data: m.Data, hdr: m.Header, seq: seq})
		if len(out) >= max {
			// The server still sends its end-of-batch marker; the
			// unsubscribe drops it.
			return out, nil
		}
	}
}

// maxMultiLast is the most subjects one multi_last direct get asks for
// (the server answers at most 1024 messages per request).
const maxMultiLast = 512

// directLastOf reads the newest message of each of subjs (at most
// maxMultiLast) in one direct-get request, served by any replica, instead
// of a request per subject to the leader. It returns the messages found,
// by subject; a replica that lags may miss the newest ones.
func (s *Store) directLastOf(ctx context.Context, subjs []string) (map[string]entry, error) {
	var got []entry
	err := s.retryEach(ctx, 2*attemptTimeout, func(ctx context.Context) error {
		var err error
		got, _, err = s.directLastOnce(ctx, subjs)
		return err
	})
	if err != nil {
		return nil, err
	}
	found := make(map[string]entry, len(got))
	for _, e := range got {
		found[e.hdr.Get(hdrStreamSubj)] = e
	}
	return found, nil
}

// directLastOnce asks one replica for the newest message of each of subjs.
// upTo is the stream sequence the replica's answer covers (its last
// sequence when it answered; 0 when it found none of subjs and so did not
// say).
func (s *Store) directLastOnce(ctx context.Context, subjs []string) (out []entry, upTo uint64, err error) {
	inbox := s.nc.NewInbox()
	sub, err := s.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, 0, fmt.Errorf("read %d subjects: %w", len(subjs), err)
	}
	defer sub.Unsubscribe()
	req, _ := json.Marshal(struct {
		Multi []string `json:"multi_last"`
		Batch int      `json:"batch"`
	}{subjs, len(subjs)})
	if err := s.nc.PublishRequest("$JS.API.DIRECT.GET."+s.stream, inbox, req); err != nil {
		return nil, 0, fmt.Errorf("read %d subjects: %w", len(subjs), err)
	}
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("read %d subjects: %w", len(subjs), err)
		}
		if st := m.Header.Get(hdrStatus); st != "" {
			switch st {
			case "204", "404": // end of the answer; none found
				upTo, _ = strconv.ParseUint(m.Header.Get(hdrUpToSeq), 10, 64)
				return out, upTo, nil
			default:
				return nil, 0, fmt.Errorf("read %d subjects: status %s %s", len(subjs), st, m.Header.Get("Description"))
			}
		}
		seq, err := strconv.ParseUint(m.Header.Get(hdrStreamSeq), 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("read %d subjects: bad sequence header", len(subjs))
		}
		out = append(out, entry{data: m.Data, hdr: m.Header, seq: seq})
	}
}

// subjects lists the stream's subjects matching filter.
func (s *Store) subjects(ctx context.Context, filter string) ([]string, error) {
	var info *jetstream.StreamInfo
	err := s.retry(ctx, func(ctx context.Context) error {
		st, err := s.js.Stream(ctx, s.stream)
		if err == nil {
			info, err = st.Info(ctx, jetstream.WithSubjectFilter(filter))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", filter, err)
	}
	out := make([]string, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		out = append(out, subj)
	}
	return out, nil
}

// msg builds a message for a batch; expect, if not nil, is the subject's
// expected last stream sequence (0: the subject must have no message).
func msg(subject string, data []byte, expect *uint64) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = data
	if expect != nil {
		m.Header.Set(hdrExpectSubj, strconv.FormatUint(*expect, 10))
	}
	return m
}

func seqp(n uint64) *uint64 { return &n }

// pubAck is a publish's answer.
type pubAck struct {
	Error     *apiError `json:"error"`
	Seq       uint64    `json:"seq"`
	Duplicate bool      `json:"duplicate"`
	Count     int       `json:"count"`
}

// publish stores msgs all or nothing: one message is an ordinary publish,
// more are one atomic batch. It returns when the stream acked the commit
// (after the replicated, fsynced write).
func (s *Store) publish(ctx context.Context, msgs []*nats.Msg) (pubAck, error) {
	if len(msgs) == 0 {
		return pubAck{}, nil
	}
	if len(msgs) > MaxBatch {
		return pubAck{}, fmt.Errorf("batch of %d messages is over the limit of %d", len(msgs), MaxBatch)
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if len(msgs) > 1 {
		id := nuid.Next()
		for i, m := range msgs {
			m.Header.Set(hdrBatchID, id)
			m.Header.Set(hdrBatchSeq, strconv.Itoa(i+1))
			if i < len(msgs)-1 {
				if err := s.nc.PublishMsg(m); err != nil {
					return pubAck{}, fmt.Errorf("publish batch: %w", err)
				}
			}
		}
		msgs[len(msgs)-1].Header.Set(hdrBatchCommit, "1")
	}
	resp, err := s.nc.RequestMsgWithContext(ctx, msgs[len(msgs)-1])
	if err != nil {
		return pubAck{}, fmt.Errorf("publish: %w", err)
	}
	var a pubAck
	if err := json.Unmarshal(resp.Data, &a); err != nil {
		return pubAck{}, fmt.Errorf("publish: bad answer: %w", err)
	}
	if a.Error != nil {
		return a, a.Error
	}
	return a, nil
}

// retry runs op, each attempt bounded by attemptTimeout, until it returns
// something other than a timeout or ctx (by default requestTimeout) ends:
// a request to a stream leader that died waits for its timeout, and the
// next attempt reaches the new leader once one is elected.
func (s *Store) retry(ctx context.Context, op func(context.Context) error) error {
	return s.retryEach(ctx, attemptTimeout, op)
}

// retryEach is retry with attempts bounded by each.
func (s *Store) retryEach(ctx context.Context, each time.Duration, op func(context.Context) error) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, each)
		err := op(actx)
		acancel()
		if err == nil || ctx.Err() != nil || !(retryable(err) || isAPI(err, codeUnavailable, codeStreamNotFound) ||
			errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrStreamNotFound)) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// retryable reports whether a request's error means "nobody answered in
// time" (a leader election, a lost route), as opposed to an answer.
func retryable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders)
}

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, requestTimeout)
}
