package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"digitpad/server/store"
	"digitpad/shared/protocol"
)

// Device enrolment (issue 11): an operator gets a short one-time code (`digitpad enroll`, or the admin route
// with the server's token); a pad or kiosk exchanges it once for its own credential, which the server keeps only
// as a SHA-256 and accepts for feedback until the device is revoked.

// EnrolmentTTL is how long a one-time code stays valid by default.
const EnrolmentTTL = 30 * time.Minute

// codeAlphabet leaves out letters and digits that read alike (0/O, 1/I/L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// CredentialPrefix starts every device credential, so leaked ones are easy to recognise.
const CredentialPrefix = "dpd_"

// NormalizeEnrolmentCode uppercases a typed code and drops spaces and dashes: "abcd efgh" -> "ABCDEFGH".
func NormalizeEnrolmentCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if strings.ContainsRune(codeAlphabet, r) || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hashSecret(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// NewEnrolment stores a fresh one-time code for a device called name and returns it as "ABCD-EFGH".
func NewEnrolment(ctx context.Context, st store.Devices, name string, ttl time.Duration, now time.Time) (string, time.Time, error) {
	if ttl <= 0 {
		ttl = EnrolmentTTL
	}
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("enrolment code: %w", err)
	}
	code := make([]byte, 8)
	for i, v := range raw {
		code[i] = codeAlphabet[int(v)%len(codeAlphabet)]
	}
	exp := now.Add(ttl).UTC()
	if err := st.CreateEnrolment(ctx, store.Enrolment{CodeHash: hashSecret(string(code)), Name: name,
		CreatedAt: now.UTC(), ExpiresAt: exp}); err != nil {
		return "", time.Time{}, err
	}
	return string(code[:4]) + "-" + string(code[4:]), exp, nil
}

// EnrolDevice spends a one-time code and returns the new device and its credential (shown once, never stored).
func EnrolDevice(ctx context.Context, st store.Devices, code, name string, now time.Time) (store.Device, string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return store.Device{}, "", fmt.Errorf("credential: %w", err)
	}
	cred := CredentialPrefix + base64.RawURLEncoding.EncodeToString(raw)
	id, err := store.NewID()
	if err != nil {
		return store.Device{}, "", err
	}
	d, err := st.Enrol(ctx, hashSecret(NormalizeEnrolmentCode(code)), now, store.Device{ID: "dev_" + id, Name: name}, hashSecret(cred))
	if err != nil {
		return store.Device{}, "", err
	}
	return d, cred, nil
}

func (s *Server) devices() store.Devices {
	d, _ := s.cfg.Store.(store.Devices)
	return d
}

// validDevice reports whether bearer (a raw credential, no "Bearer ") belongs to an enrolled, unrevoked device.
func (s *Server) validDevice(ctx context.Context, cred string) bool {
	st := s.devices()
	if st == nil || !strings.HasPrefix(cred, CredentialPrefix) {
		return false
	}
	_, err := st.DeviceByCredential(ctx, hashSecret(cred))
	return err == nil
}

// bearerDevice is validDevice for an Authorization header.
func (s *Server) bearerDevice(ctx context.Context, header string) bool {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	return ok && s.validDevice(ctx, strings.TrimSpace(tok))
}

// wsSubprotocolCredential finds a device credential offered as the websocket subprotocol
// "digitpad.bearer.<credential>" (browsers cannot set Authorization on a websocket; this keeps it out of URLs).
func wsSubprotocolCredential(r *http.Request) string {
	for _, p := range strings.Split(r.Header.Get("Sec-WebSocket-Protocol"), ",") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(p), "digitpad.bearer."); ok {
			return c
		}
	}
	return ""
}

type enrolmentInput struct {
	Body struct {
		Name       string `json:"name,omitempty" maxLength:"100" doc:"What the device is, e.g. 'depot 7 counter pad'"`
		TTLMinutes int    `json:"ttl_minutes,omitempty" minimum:"0" maximum:"1440" doc:"Validity (default 30)"`
	}
}

type enrolmentOutput struct {
	Body struct {
		Code      string    `json:"code" example:"K7QM-4XPA" doc:"One-time code to type on the device"`
		ExpiresAt time.Time `json:"expires_at"`
	}
}

type enrolInput struct {
	Body struct {
		Code string `json:"code" maxLength:"40" example:"K7QM-4XPA" doc:"The one-time code from the operator"`
		Name string `json:"name,omitempty" maxLength:"100" doc:"The device's own name (default: the enrolment's)"`
	}
}

type enrolOutput struct {
	Body struct {
		DeviceID   string `json:"device_id"`
		Name       string `json:"name"`
		Credential string `json:"credential" doc:"The device's bearer credential: keep it on the device; shown once"`
	}
}

type devicesOutput struct {
	Body struct {
		Devices []store.Device `json:"devices"`
	}
}

type deviceIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

// registerDevices adds the enrolment routes.
func (s *Server) registerDevices(api huma.API) {
	create := huma.Operation{
		OperationID: "create-enrolment", Method: http.MethodPost, Path: "/v1/admin/enrolments", Tags: []string{"devices"},
		Summary:     "Get a one-time code to enrol a pad or kiosk",
		Description: "The operator types the code on the device (the pad's enrolment form, the kiosk's -enroll flag).",
		Errors:      []int{401, 503}, Metadata: map[string]any{"auth": authAdmin},
	}
	s.secure(&create, authAdmin)
	huma.Register(api, create, func(ctx context.Context, in *enrolmentInput) (*enrolmentOutput, error) {
		st := s.devices()
		if st == nil {
			return nil, apiErr(protocol.EUnavailable, "this store cannot enrol devices")
		}
		code, exp, err := NewEnrolment(ctx, st, in.Body.Name, time.Duration(in.Body.TTLMinutes)*time.Minute, time.Now())
		if err != nil {
			s.log.ErrorContext(ctx, "create enrolment failed", "err", err)
			return nil, apiErr(protocol.EUnavailable, "store unavailable")
		}
		out := &enrolmentOutput{}
		out.Body.Code, out.Body.ExpiresAt = code, exp
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "enrol-device", Method: http.MethodPost, Path: "/v1/devices/enrol", Tags: []string{"devices"},
		Summary:     "Exchange a one-time code for this device's credential",
		Description: "Answers the credential once. Send it as `Authorization: Bearer <credential>` (or, from a browser websocket, as the subprotocol `digitpad.bearer.<credential>` beside `digitpad`).",
		Errors:      []int{400, 404, 503},
	}, func(ctx context.Context, in *enrolInput) (*enrolOutput, error) {
		st := s.devices()
		if st == nil {
			return nil, apiErr(protocol.EUnavailable, "this store cannot enrol devices")
		}
		d, cred, err := EnrolDevice(ctx, st, in.Body.Code, in.Body.Name, time.Now())
		if errors.Is(err, store.ErrNotFound) {
			return nil, apiErr(protocol.ENotFound, "unknown, used or expired enrolment code")
		}
		if err != nil {
			s.log.ErrorContext(ctx, "enrol failed", "err", err)
			return nil, apiErr(protocol.EUnavailable, "store unavailable")
		}
		s.log.InfoContext(ctx, "device enrolled", "device", d.ID, "name", d.Name)
		out := &enrolOutput{}
		out.Body.DeviceID, out.Body.Name, out.Body.Credential = d.ID, d.Name, cred
		return out, nil
	})

	list := huma.Operation{
		OperationID: "list-devices", Method: http.MethodGet, Path: "/v1/admin/devices", Tags: []string{"devices"},
		Summary: "Enrolled devices", Errors: []int{401, 503}, Metadata: map[string]any{"auth": authAdmin},
	}
	s.secure(&list, authAdmin)
	huma.Register(api, list, func(ctx context.Context, _ *struct{}) (*devicesOutput, error) {
		st := s.devices()
		if st == nil {
			return nil, apiErr(protocol.EUnavailable, "this store cannot enrol devices")
		}
		ds, err := st.ListDevices(ctx)
		if err != nil {
			return nil, apiErr(protocol.EUnavailable, "store unavailable")
		}
		out := &devicesOutput{}
		out.Body.Devices = ds
		return out, nil
	})

	revoke := huma.Operation{
		OperationID: "revoke-device", Method: http.MethodPost, Path: "/v1/admin/devices/{id}/revoke", Tags: []string{"devices"},
		Summary: "Revoke a device's credential", Errors: []int{401, 404, 503}, Metadata: map[string]any{"auth": authAdmin},
	}
	s.secure(&revoke, authAdmin)
	huma.Register(api, revoke, func(ctx context.Context, in *deviceIDInput) (*statusOutput, error) {
		st := s.devices()
		if st == nil {
			return nil, apiErr(protocol.EUnavailable, "this store cannot enrol devices")
		}
		err := st.RevokeDevice(ctx, in.ID, time.Now())
		if errors.Is(err, store.ErrNotFound) {
			return nil, apiErr(protocol.ENotFound, fmt.Sprintf("device %q not found", in.ID))
		}
		if err != nil {
			return nil, apiErr(protocol.EUnavailable, "store unavailable")
		}
		s.log.InfoContext(ctx, "device revoked", "device", in.ID)
		return &statusOutput{Body: statusBody{Status: "revoked"}}, nil
	})
}

// printEnrolment prints, under the serving line, a one-time code for the first pad or kiosk, so that the URL a
// clerk opens leads to enrolment (the pad shows its form when the server refuses its records) instead of a
// silently filling outbox.
func (p *Program) printEnrolment(ctx context.Context, url string) {
	st, ok := p.store.(store.Devices)
	if !ok || p.Config.Token == "" || p.Config.OpenFeedback {
		return
	}
	code, exp, err := NewEnrolment(ctx, st, "enrolled at startup", EnrolmentTTL, time.Now())
	if err != nil {
		p.Config.Logger.Warn("cannot create a startup enrolment code", "err", err)
		return
	}
	fmt.Fprintf(p.Stdout, "enrol a pad (open %s) or a kiosk (its Enrol button): type the code %s (one use, until %s; more with `digitpad enroll`)\n",
		url, code, exp.Local().Format("15:04"))
}
