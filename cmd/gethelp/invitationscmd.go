package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/gethelp/gethelp/invitations"
)

func (m *Main) store() *invitations.Store {
	return &invitations.Store{Dir: filepath.Join(m.stateDir, "invitations")}
}

func (m *Main) invitations(ctx context.Context, verb string, args []string) error {
	switch verb {
	case "list":
		return m.invitationsList(args)
	case "resend":
		return m.invitationsResend(ctx, args)
	case "cancel":
		return m.invitationsCancel(args)
	}
	return m.unknown("invitations", verb)
}

func (m *Main) invitationsList(args []string) error {
	fs := m.flags("invitations list", "invitations list [--json]")
	jsonMode := fs.Bool("json", false, "one JSON object per invitation")
	if err := parse(fs, args); err != nil {
		return err
	}
	recs, err := m.store().List()
	if err != nil && len(recs) == 0 {
		return err
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "gethelp: %s\n", userMessage(err))
	}
	if *jsonMode {
		out := &jsonOut{w: m.Stdout}
		for _, r := range recs {
			out.write(r)
		}
		return nil
	}
	if len(recs) == 0 {
		fmt.Fprintln(m.Stdout, "No invitations yet. Create one with: gethelp host invite")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tEXPIRES\tWRONG PASSWORDS\tFILE")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.State,
			r.Created.Local().Format("2006-01-02 15:04"), r.Expires.Local().Format("2006-01-02 15:04"), r.Failures, r.File)
	}
	return tw.Flush()
}

func (m *Main) invitationsResend(ctx context.Context, args []string) error {
	var o inviteOptions
	fs := m.inviteFlags("invitations resend", "invitations resend [--ttl 6h] [--out FILE] [--password-file F] [--listen ADDR] [--json] ID", &o)
	if err := parseInvite(fs, args, &o); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	rec, err := m.store().Get(fs.Arg(0))
	if err != nil {
		return err
	}
	if st := rec.Effective(time.Now()); st == invitations.StateOpen {
		return fmt.Errorf("invitation %s is still open and waiting (process %d); cancel it first with: gethelp invitations cancel %s", rec.ID, rec.PID, rec.ID)
	}
	o.id = rec.ID
	if o.out == "" {
		o.out = rec.File
	}
	if o.name == "" {
		o.name = rec.HostName
	}
	return m.serve(ctx, o)
}

func (m *Main) invitationsCancel(args []string) error {
	fs := m.flags("invitations cancel", "invitations cancel ID")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	var was invitations.State
	_, err := m.store().Update(fs.Arg(0), func(r *invitations.Record) error {
		was = r.Effective(time.Now())
		switch was {
		case invitations.StateOpen, invitations.StateLocked:
			r.State = invitations.StateCancelled
			r.Updated = time.Now().UTC()
			return nil
		}
		return errNothingToCancel
	})
	if errors.Is(err, errNothingToCancel) {
		return fmt.Errorf("invitation %s is already %s; nothing to cancel", fs.Arg(0), was)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Invitation %s cancelled. A gethelp waiting on it stops within a second.\n", fs.Arg(0))
	return nil
}

var errNothingToCancel = errors.New("nothing to cancel")
