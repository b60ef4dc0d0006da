package session

// Changed returns a channel that is closed at the session's next event
// (entries cached, an outbox item's new state, a connection state change,
// a room change). Whoever reads the store instead of Events, such as the
// owner's control socket serving other processes, waits on it and then
// reads what changed; Events itself stays the one consumer's.
func (s *Session) Changed() <-chan struct{} {
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	return s.q.changed
}

// Done is closed when the session is closed.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }
