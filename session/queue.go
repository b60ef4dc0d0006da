package session

import "sync"

// eventQueue decouples the network side from the consumer: push never
// blocks (so a slow UI cannot stall the socket), and one goroutine hands the
// events to the consumer's channel in push order.
type eventQueue struct {
	mu     sync.Mutex
	items  []Event
	wake   chan struct{}
	out    chan Event
	done   chan struct{}
	closed bool
	// changed is closed (and replaced) at every push: a broadcast for
	// watchers that read the store rather than the events (Changed).
	changed chan struct{}
}

func newEventQueue() *eventQueue {
	q := &eventQueue{wake: make(chan struct{}, 1), out: make(chan Event, 64), done: make(chan struct{}),
		changed: make(chan struct{})}
	go q.deliver()
	return q
}

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, ev)
	close(q.changed)
	q.changed = make(chan struct{})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close stops delivery; events not yet taken are dropped and out is closed.
func (q *eventQueue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.done)
	}
	q.mu.Unlock()
}

func (q *eventQueue) deliver() {
	defer close(q.out)
	for {
		q.mu.Lock()
		batch := q.items
		q.items = nil
		q.mu.Unlock()
		for _, ev := range batch {
			select {
			case q.out <- ev:
			case <-q.done:
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-q.wake:
		case <-q.done:
			return
		}
	}
}
