package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/bouncekit/bouncekit/queue"
)

// maildir delivers DSNs into Maildir folders: <dir>/<account>/new/ for the
// inbox, <dir>/<account>/.<mailbox>/cur/ with the seen flag for a mailbox
// such as "dmarc" (Maildir++). Any mail client, or mutt -f, opens them.
type maildir struct {
	dir string

	mu        sync.Mutex
	delivered []queue.OutboxDSN
}

// DeliverDSN implements queue.DSNDeliverer.
func (m *maildir) DeliverDSN(ctx context.Context, d queue.OutboxDSN) error {
	folder := filepath.Join(m.dir, d.Account)
	sub, name := "new", fmt.Sprintf("%d.dsn%d.bouncekit", d.Created.Unix(), d.ID)
	if d.Mailbox != "" && d.Mailbox != "Inbox" {
		folder = filepath.Join(folder, "."+d.Mailbox)
	}
	if d.Seen {
		sub, name = "cur", name+":2,S"
	}
	for _, s := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(folder, s), 0o755); err != nil {
			return err
		}
	}
	// Write in tmp, then rename: the Maildir way to never show half a message.
	tmp := filepath.Join(folder, "tmp", name)
	if err := os.WriteFile(tmp, d.Data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(folder, sub, name)); err != nil {
		return err
	}
	m.mu.Lock()
	m.delivered = append(m.delivered, d)
	m.mu.Unlock()
	return nil
}

func (m *maildir) list() []queue.OutboxDSN {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]queue.OutboxDSN(nil), m.delivered...)
}
