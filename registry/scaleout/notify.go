package scaleout

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"digitpad/registry"
	"digitpad/registry/internal/sqlmeta"
)

// notifyChannel is the PostgreSQL channel every registry change notifies.
const notifyChannel = "digitpad_registry"

// meta is sqlmeta.Meta plus pushes: LISTEN on notifyChannel over a dedicated connection.
type meta struct {
	*sqlmeta.Meta
	dsn string
	log *slog.Logger
}

var _ registry.Notifier = (*meta)(nil)

// Changes implements registry.Notifier. The connection is re-made after errors (watchers still poll meanwhile).
func (m *meta) Changes(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	signal := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	go func() {
		for ctx.Err() == nil {
			err := m.listen(ctx, signal)
			if ctx.Err() != nil {
				return
			}
			m.log.Warn("registry: LISTEN connection lost; polling until it is back", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	return ch
}

func (m *meta) listen(ctx context.Context, signal func()) error {
	conn, err := pgx.Connect(ctx, m.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	signal() // changes made before LISTEN took effect
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		signal()
	}
}
