package graph

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"
	"time"

	"github.com/threadline/threadline/thread"
)

// credentialWatch keeps the credentials of live connections true: a WebSocket connection, or a Server-Sent
// Events stream, whose credentials no longer grant what they granted when it was accepted is ended (a
// WebSocket with 4403), and its client authenticates again. It checks again, through thread's
// AuthenticateHeader as at the connection's start,
//   - the connections of a site whose signing secret changed, when the service says something changed
//     (OnChange(0): a site rotated its secret, here or in another process);
//   - the connections of a reader suspended or deleted (OnReaderChange);
//   - every connection, every RecheckInterval, for changes no hook sees;
//   - a connection authenticated while a change was being checked, which the check may have missed.
//
// A session's connection is ended when the session expires. Anonymous connections have nothing to check.
type credentialWatch struct {
	svc      *thread.Service
	interval time.Duration
	log      *slog.Logger

	mu       sync.Mutex
	conns    map[*watched]*time.Timer // each authenticated connection, with its expiry timer (nil: none)
	secrets  map[int64][32]byte       // the fingerprint of each site's secret when last looked at
	changed  uint64                   // counts the changes told, see add
	todo     recheck                  // what the next check is to look at
	running  bool                     // a goroutine is checking
	backstop *time.Timer
}

// recheck is what a check looks at; checks asked for while one runs are merged into the next.
type recheck struct {
	all, sites bool
	readers    map[int64]bool
	conns      map[*watched]bool
}

// watched is a live connection's credentials: the Authorization it was accepted with, what that granted then,
// and how to end the connection.
type watched struct {
	header string
	grant  thread.Grant
	end    func()
}

func (r recheck) empty() bool {
	return !r.all && !r.sites && len(r.readers) == 0 && len(r.conns) == 0
}

func newCredentialWatch(svc *thread.Service, interval time.Duration, log *slog.Logger) *credentialWatch {
	w := &credentialWatch{svc: svc, interval: interval, log: log, conns: map[*watched]*time.Timer{}}
	w.secrets, _ = w.fingerprints(context.Background()) // without them, the first change checks every site
	svc.OnChange(func(articleID int64) {
		if articleID == 0 {
			w.schedule(func(r *recheck) { r.sites = true })
		}
	})
	svc.OnReaderChange(func(readerID int64) {
		w.schedule(func(r *recheck) {
			if r.readers == nil {
				r.readers = map[int64]bool{}
			}
			r.readers[readerID] = true
		})
	})
	return w
}

// changes returns the count of changes told so far: a connection notes it before it authenticates.
func (w *credentialWatch) changes() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changed
}

// add watches the credentials a connection was accepted with, header (its Authorization) granting grant until
// until (zero: no expiry); end ends the connection. since is changes() from before it authenticated: if a
// change came meanwhile, the connection is checked again. It returns nil, watching nothing, for an anonymous
// connection.
func (w *credentialWatch) add(header string, grant thread.Grant, until time.Time, since uint64, end func()) *watched {
	if header == "" || grant == (thread.Grant{}) {
		return nil // anonymous: nothing to withdraw
	}
	c := &watched{header: header, grant: grant, end: end}
	var expiry *time.Timer
	if !until.IsZero() {
		expiry = time.AfterFunc(max(until.Sub(w.svc.Now()), 0), end)
	}
	w.mu.Lock()
	w.conns[c] = expiry
	if w.backstop == nil && w.interval > 0 {
		w.backstop = time.AfterFunc(w.interval, w.periodic)
	}
	missed := w.changed != since
	w.mu.Unlock()
	if missed {
		w.schedule(func(r *recheck) {
			if r.conns == nil {
				r.conns = map[*watched]bool{}
			}
			r.conns[c] = true
		})
	}
	return c
}

// remove stops watching c (nil: nothing).
func (w *credentialWatch) remove(c *watched) {
	if c == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if expiry, ok := w.conns[c]; ok {
		if expiry != nil {
			expiry.Stop()
		}
		delete(w.conns, c)
	}
}

// periodic checks every connection, and comes again while there are connections to check.
func (w *credentialWatch) periodic() {
	w.mu.Lock()
	if len(w.conns) == 0 {
		w.backstop = nil
		w.mu.Unlock()
		return
	}
	w.backstop.Reset(w.interval)
	w.mu.Unlock()
	w.schedule(func(r *recheck) { r.all = true })
}

// schedule adds to the next check, and starts checking unless a check is running: it is quick, for it runs
// in the service's write path.
func (w *credentialWatch) schedule(add func(*recheck)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.changed++
	add(&w.todo)
	if !w.running {
		w.running = true
		go w.run()
	}
}

func (w *credentialWatch) run() {
	for {
		w.mu.Lock()
		todo := w.todo
		w.todo = recheck{}
		if todo.empty() || len(w.conns) == 0 && !todo.sites {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		w.check(todo)
	}
}

// check authenticates again the connections todo names, each distinct credential once, and closes those
// whose credentials are refused or grant something else now. A failure of the database is not a refusal:
// those connections are left for the next check.
func (w *credentialWatch) check(todo recheck) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var sites map[int64]bool
	if todo.sites {
		sites = w.changedSites(ctx)
	}
	byHeader := map[string][]*watched{}
	w.mu.Lock()
	for c := range w.conns {
		if todo.all || sites[c.grant.SiteID] || todo.readers[c.grant.ReaderID] || todo.conns[c] {
			byHeader[c.header] = append(byHeader[c.header], c)
		}
	}
	w.mu.Unlock()
	for header, conns := range byHeader {
		authenticated, err := w.svc.AuthenticateHeader(ctx, header)
		if err != nil && thread.ErrorCode(err) == thread.CodeInternal {
			w.log.Warn("re-checking the credentials of live connections", "error", err)
			continue
		}
		grant := thread.GrantOf(authenticated)
		for _, c := range conns {
			if err != nil || grant != c.grant {
				c.end()
			}
		}
	}
}

// changedSites returns the sites whose signing secret changed, or that are gone, since it last looked.
func (w *credentialWatch) changedSites(ctx context.Context) map[int64]bool {
	now, err := w.fingerprints(ctx)
	if err != nil {
		w.log.Warn("re-checking the credentials of live connections", "error", err)
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	changed := map[int64]bool{}
	for id, was := range w.secrets {
		if is, ok := now[id]; !ok || is != was {
			changed[id] = true
		}
	}
	w.secrets = now
	return changed
}

// fingerprints returns a hash of each site's signing secret: enough to see that it changed, without keeping a
// second copy of it.
func (w *credentialWatch) fingerprints(ctx context.Context) (map[int64][32]byte, error) {
	sites, err := w.svc.ListSites(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64][32]byte, len(sites))
	for _, s := range sites {
		out[s.ID] = sha256.Sum256([]byte(s.SigningSecret))
	}
	return out, nil
}
