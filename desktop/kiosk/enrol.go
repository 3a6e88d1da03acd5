package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// CredentialFile is the file in the data folder that holds the kiosk's device credential (mode 0600).
const CredentialFile = "device.credential"

// Enrol exchanges an operator's one-time code (`digitpad enroll`) for this kiosk's own device credential and
// keeps it in dataDir/CredentialFile. The credential is then used instead of a shared token; revoking the
// device on the server stops its sync.
func Enrol(ctx context.Context, client *http.Client, server, dataDir, code, name string) (deviceID string, err error) {
	if client == nil {
		client = http.DefaultClient
	}
	u, err := resolveURL(server, "/v1/devices/enrol")
	if err != nil {
		return "", fmt.Errorf("enrol: %w", err)
	}
	body, _ := json.Marshal(map[string]string{"code": code, "name": name})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("enrol: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("enrol: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		}
		_ = json.Unmarshal(b, &e)
		msg := e.Message + e.Detail
		if msg == "" {
			msg = resp.Status
		}
		return "", fmt.Errorf("enrol: %w", &enrolRefused{status: resp.StatusCode, msg: msg})
	}
	var out struct {
		DeviceID   string `json:"device_id"`
		Credential string `json:"credential"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Credential == "" {
		return "", errors.New("enrol: the server's answer has no credential")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("enrol: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, ".credential-*")
	if err != nil {
		return "", fmt.Errorf("enrol: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(out.Credential + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("enrol: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("enrol: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("enrol: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dataDir, CredentialFile)); err != nil {
		return "", fmt.Errorf("enrol: %w", err)
	}
	return out.DeviceID, nil
}

// enrolRefused is the server's answer to a code it does not accept.
type enrolRefused struct {
	status int
	msg    string
}

func (e *enrolRefused) Error() string { return fmt.Sprintf("the server said %q (%d)", e.msg, e.status) }

// readCredential returns the stored device credential, "" when the kiosk is not enrolled.
func readCredential(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, CredentialFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
