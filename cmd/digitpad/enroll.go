package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"digitpad/server"
	"digitpad/server/store"
	"digitpad/server/store/open"
)

// runEnroll prints a one-time code that enrols a pad or kiosk; "enroll list" and "enroll revoke ID" manage the
// enrolled devices. It works on the server's store directly, so the server need not be running.
func runEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "data", "the server's data folder (its SQLite store)")
	db := fs.String("db", "", "store DSN (default: sqlite in --data), e.g. postgres://...")
	name := fs.String("name", "", "what the device is, e.g. 'depot 7 counter pad'")
	ttl := fs.Duration("ttl", server.EnrolmentTTL, "how long the code stays valid")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: digitpad enroll [--data DIR | --db DSN] [--name NAME] [--ttl 30m]\n"+
			"       digitpad enroll list | revoke DEVICE_ID [--data DIR | --db DSN]")
		fs.PrintDefaults()
	}
	sub := ""
	if len(args) > 0 && (args[0] == "list" || args[0] == "revoke") {
		sub, args = args[0], args[1:]
	}
	var id string
	if sub == "revoke" && len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if sub == "revoke" && id == "" {
		id = fs.Arg(0)
	}
	dsn := *db
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(*data, "digitpad.db")
	}
	st, err := open.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	devs, ok := st.(store.Devices)
	if !ok {
		return errors.New("this store cannot enrol devices")
	}
	switch sub {
	case "list":
		ds, err := devs.ListDevices(ctx)
		if err != nil {
			return err
		}
		for _, d := range ds {
			state := "active"
			if d.RevokedAt != nil {
				state = "revoked " + d.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", d.ID, d.CreatedAt.Format(time.RFC3339), state, d.Name)
		}
		return nil
	case "revoke":
		if id == "" {
			return errors.New("enroll revoke: which device id? (digitpad enroll list)")
		}
		if err := devs.RevokeDevice(ctx, id, time.Now()); err != nil {
			return fmt.Errorf("revoke %s: %w", id, err)
		}
		fmt.Fprintf(stdout, "revoked %s\n", id)
		return nil
	}
	code, exp, err := server.NewEnrolment(ctx, devs, *name, *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "enrolment code %s (one use, valid until %s): type it on the pad's enrolment form or the kiosk's (its Enrol button), or run the kiosk with -enroll %s\n",
		code, exp.Local().Format("15:04"), code)
	return nil
}
