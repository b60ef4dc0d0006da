package booth

// One visitor: an SSH session with a terminal becomes an account, a
// session on the relay, and a Bubble Tea program reading the visitor's keys
// and drawing on their terminal. When either side ends, the rest follows.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"

	"mimichat/proto"
	"mimichat/session"
	"mimichat/ui"
)

// The lines a refused visitor reads.
const (
	msgNoTerminal = "The mimichat booth needs a terminal: connect with ssh -t."
	msgFull       = "The mimichat booth is full (%d visitors). Please try again in a few minutes."
	msgRate       = "Too many connections from your address. Please wait a minute and try again."
	msgClosing    = "The mimichat booth is closing. Thank you for visiting!"
	msgNoAccount  = "Every visitor account of this booth is in use. Please try again in a few minutes."
	msgSetup      = "Sorry, the booth could not set up your account (%v). Please try again."
)

// visit serves one SSH session.
func (b *Booth) visit(sess ssh.Session) {
	b.wg.Add(1)
	defer b.wg.Done()
	log := b.cfg.Logger.With("remote", sess.RemoteAddr().String(), "ssh_user", sess.User())
	refuse := func(why, line string) {
		log.Info("booth: refused", "why", why)
		wish.Fatalln(sess, line)
	}
	if b.closing.Load() {
		refuse("closing", msgClosing)
		return
	}
	if !b.conns.allow(sourceHost(sess.RemoteAddr()), time.Now()) {
		refuse("rate", msgRate)
		return
	}
	pty, windows, ok := sess.Pty()
	if !ok {
		refuse("no terminal", msgNoTerminal)
		return
	}
	select {
	case b.slots <- struct{}{}:
		defer func() { <-b.slots }()
	default:
		refuse("full", fmt.Sprintf(msgFull, b.cfg.MaxVisitors))
		return
	}
	acc, release, err := b.cfg.Accounts.Take(sanitizeName(sess.User()))
	if errors.Is(err, ErrNoAccount) {
		refuse("no account", msgNoAccount)
		return
	}
	if err != nil {
		refuse(err.Error(), fmt.Sprintf(msgSetup, "no account"))
		return
	}
	// Deferred first, so it runs last: the account is lent again only
	// once its session (and its data directory) is closed.
	defer release()
	log = log.With("user", acc.Name)
	// The account's name is ours (a sanitized slug), safe to print.
	wish.Printf(sess, "Welcome to the mimichat booth! You are %s. Joining the rooms…\r\n", acc.Name)
	s, err := b.connect(sess.Context(), acc)
	if err != nil {
		refuse(err.Error(), fmt.Sprintf(msgSetup, "the relay did not answer in time"))
		return
	}
	defer s.Close()
	o := b.cfg.UI
	o.Session, o.Remote, o.Upload = s, true, nil
	if len(acc.Names) > 0 {
		names := make(map[string]string, len(acc.Names)+len(o.Names))
		for k, v := range acc.Names {
			names[k] = v
		}
		for k, v := range o.Names { // the config file's names win, as in the demo
			names[k] = v
		}
		o.Names = names
	}
	if len(acc.Rooms) > 0 {
		o.Room = acc.Rooms[0]
	}
	m, err := ui.New(o)
	if err != nil {
		refuse(err.Error(), fmt.Sprintf(msgSetup, "the client did not start"))
		return
	}
	opts := append(bubbletea.MakeOptions(sess),
		tea.WithInput(newThrottledReader(sess, b.cfg.Input)),
		tea.WithContext(sess.Context()),
		// The booth's own process handles its signals; a visitor's
		// program must not quit on the host's ctrl+c.
		tea.WithoutSignalHandler(),
		tea.WithWindowSize(pty.Window.Width, pty.Window.Height))
	p := tea.NewProgram(m, opts...)
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case w := <-windows:
				p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
			}
		}
	}()
	b.arrive(present{s, acc.Rooms})
	// Runs before s.Close (deferred earlier): the session still talks.
	defer b.leave(present{s, acc.Rooms})
	log.Info("booth: visitor arrived", "term", pty.Term, "width", pty.Window.Width, "height", pty.Window.Height)
	_, err = p.Run()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
		log.Info("booth: client ended", "err", err)
	}
	log.Info("booth: visitor left")
	sess.Exit(0)
}

// connect opens and starts the account's session and joins its rooms,
// within the booth's setup time.
func (b *Booth) connect(ctx context.Context, acc Account) (*session.Session, error) {
	s, err := session.Open(acc.Session)
	if err != nil {
		return nil, err
	}
	s.Start()
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Setup)
	defer cancel()
	if err := s.WaitOnline(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("booth: %s online: %w", acc.Name, err)
	}
	for _, r := range acc.Rooms {
		if err := joinOnce(ctx, s, r); err != nil {
			s.Close()
			return nil, fmt.Errorf("booth: %s joins %s: %w", acc.Name, r, err)
		}
	}
	return s, nil
}

// joinOnce joins room unless the account is a member already (a visitor
// who comes back, a pool account that joined before).
func joinOnce(ctx context.Context, s *session.Session, room string) error {
	_, err := s.Join(ctx, room)
	var pe *proto.Error
	if err == nil || !errors.As(err, &pe) || pe.Code != proto.CodeInvalidOp {
		return err
	}
	info, ierr := s.RoomInfo(ctx, room)
	if ierr != nil {
		return err
	}
	for _, m := range info.Members {
		if m.User == s.User() && m.State == proto.StateJoined {
			return nil
		}
	}
	return err
}

// sourceHost is the address's host: the rate limit counts per machine,
// not per source port.
func sourceHost(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
