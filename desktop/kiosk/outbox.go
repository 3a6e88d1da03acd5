package kiosk

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"digitpad/shared/protocol"
)

var (
	bucketPending  = []byte("pending")  // seq (8 bytes big-endian) -> Feedback JSON, in confirmation order
	bucketKeys     = []byte("keys")     // idempotency key -> seq
	bucketRejected = []byte("rejected") // idempotency key -> Rejected JSON: records the server refused for good
	bucketSending  = []byte("sending")  // idempotency key -> unanswered sends (uint32 big-endian) of a pending record
)

// ErrNoKey is returned for a record without an idempotency key.
var ErrNoKey = errors.New("feedback record has no idempotency key")

// Outbox keeps confirmed codes until the server acknowledges them. It is a bbolt file whose every write is
// fsync'd before it returns, so a record that Put accepted survives a kill or a power cut. Safe for concurrent
// use; one process at a time may open the file.
type Outbox struct {
	db *bolt.DB
}

// OpenOutbox opens (creating if needed) the outbox file at path. It waits at most timeout for another process
// holding the file to let go.
func OpenOutbox(path string, timeout time.Duration) (*Outbox, error) {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("open outbox %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPending, bucketKeys, bucketRejected, bucketSending} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("init outbox %s: %w", path, err)
	}
	return &Outbox{db: db}, nil
}

// Close closes the file.
func (o *Outbox) Close() error {
	if err := o.db.Close(); err != nil {
		return fmt.Errorf("close outbox: %w", err)
	}
	return nil
}

// Put stores a record durably. A record whose idempotency key is already pending is not stored twice.
func (o *Outbox) Put(f protocol.Feedback) error {
	if f.IdempotencyKey == "" {
		return ErrNoKey
	}
	val, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("outbox: encode record: %w", err)
	}
	err = o.db.Update(func(tx *bolt.Tx) error {
		keys := tx.Bucket(bucketKeys)
		if keys.Get([]byte(f.IdempotencyKey)) != nil {
			return nil
		}
		pend := tx.Bucket(bucketPending)
		seq, err := pend.NextSequence()
		if err != nil {
			return err
		}
		k := binary.BigEndian.AppendUint64(nil, seq)
		if err := pend.Put(k, val); err != nil {
			return err
		}
		return keys.Put([]byte(f.IdempotencyKey), k)
	})
	if err != nil {
		return fmt.Errorf("outbox: put %s: %w", f.IdempotencyKey, err)
	}
	return nil
}

// List returns the pending records, oldest first.
func (o *Outbox) List() ([]protocol.Feedback, error) {
	var out []protocol.Feedback
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(k, v []byte) error {
			var f protocol.Feedback
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("record %x: %w", k, err)
			}
			out = append(out, f)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	return out, nil
}

// Len is the number of pending records.
func (o *Outbox) Len() (int, error) {
	n := 0
	err := o.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketPending).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: count: %w", err)
	}
	return n, nil
}

// Delete removes an acknowledged record; it reports whether the key was pending.
func (o *Outbox) Delete(key string) (bool, error) {
	found := false
	err := o.db.Update(func(tx *bolt.Tx) error {
		_, ok, err := remove(tx, key)
		found = ok
		return err
	})
	if err != nil {
		return false, fmt.Errorf("outbox: delete %s: %w", key, err)
	}
	return found, nil
}

// ErrSending is returned by Withdraw once sync has started to send the record: it may already be stored on the
// server, so it can no longer be withdrawn on the kiosk.
var ErrSending = errors.New("already being sent; it cannot be withdrawn here")

// ErrAlreadySent is returned by Withdraw once the server acknowledged the record.
var ErrAlreadySent = errors.New("already sent; it cannot be withdrawn here")

// Claim marks a pending record as being sent; sync calls it before every write of the record to the server. It
// reports false when the record is no longer pending (acknowledged or withdrawn): then it must not be sent.
// Claim and Withdraw are bbolt transactions, so they are serialised: a record is either withdrawn and never
// sent, or claimed and not withdrawn until every send of it is answered "not stored" (Resolve).
func (o *Outbox) Claim(key string) (bool, error) {
	ok, err := o.ClaimAll([]string{key})
	if err != nil {
		return false, err
	}
	return ok[key], nil
}

// ClaimAll is Claim for several records in one transaction (one fsync per flush of the outbox, not one per
// record); it returns the keys that were still pending and are now claimed.
func (o *Outbox) ClaimAll(keys []string) (map[string]bool, error) {
	ok := make(map[string]bool, len(keys))
	err := o.db.Update(func(tx *bolt.Tx) error {
		b, pending := tx.Bucket(bucketSending), tx.Bucket(bucketKeys)
		for _, key := range keys {
			if pending.Get([]byte(key)) == nil {
				continue
			}
			ok[key] = true
			if err := b.Put([]byte(key), binary.BigEndian.AppendUint32(nil, sendsOf(b, key)+1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: claim %d records: %w", len(keys), err)
	}
	return ok, nil
}

// Resolve records that the server answered one send of the record with a refusal that stored nothing (the
// kiosk's credential refused). When every send is answered so, the record may be withdrawn again; a send whose
// answer was lost keeps it claimed, because the server may have stored it.
func (o *Outbox) Resolve(key string) error {
	err := o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSending)
		switch n := sendsOf(b, key); {
		case n <= 1:
			return b.Delete([]byte(key))
		default:
			return b.Put([]byte(key), binary.BigEndian.AppendUint32(nil, n-1))
		}
	})
	if err != nil {
		return fmt.Errorf("outbox: resolve %s: %w", key, err)
	}
	return nil
}

// sendsOf is the number of unanswered sends of a record.
func sendsOf(b *bolt.Bucket, key string) uint32 {
	v := b.Get([]byte(key))
	if len(v) != 4 {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

// Sending reports whether sync has claimed the pending record with this key.
func (o *Outbox) Sending(key string) (bool, error) {
	found := false
	err := o.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketSending).Get([]byte(key)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("outbox: lookup %s: %w", key, err)
	}
	return found, nil
}

// Withdraw removes a pending record that sync has not started to send: the clerk's "undo last confirm". It
// returns ErrSending once the record is claimed, ErrAlreadySent once it left the outbox.
func (o *Outbox) Withdraw(key string) error {
	err := o.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketKeys).Get([]byte(key)) == nil {
			return ErrAlreadySent
		}
		if tx.Bucket(bucketSending).Get([]byte(key)) != nil {
			return ErrSending
		}
		_, _, err := remove(tx, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("outbox: withdraw %s: %w", key, err)
	}
	return nil
}

// Rejected is a record the server refused as invalid; it is kept for inspection instead of being resent forever.
type Rejected struct {
	Feedback protocol.Feedback `json:"feedback"`
	Code     string            `json:"code"`
	Reason   string            `json:"reason"`
	At       time.Time         `json:"at"`
}

// Reject moves a pending record to the rejected set with the server's error; it reports whether it was pending.
func (o *Outbox) Reject(key string, e protocol.Error, at time.Time) (bool, error) {
	found := false
	err := o.db.Update(func(tx *bolt.Tx) error {
		val, ok, err := remove(tx, key)
		if err != nil || !ok {
			return err
		}
		found = true
		r := Rejected{Code: e.Code, Reason: e.Message, At: at}
		if err := json.Unmarshal(val, &r.Feedback); err != nil {
			return err
		}
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketRejected).Put([]byte(key), b)
	})
	if err != nil {
		return false, fmt.Errorf("outbox: reject %s: %w", key, err)
	}
	return found, nil
}

// RejectedRecords lists the records the server refused.
func (o *Outbox) RejectedRecords() ([]Rejected, error) {
	var out []Rejected
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRejected).ForEach(func(k, v []byte) error {
			var r Rejected
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("rejected %s: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: list rejected: %w", err)
	}
	return out, nil
}

// remove deletes a pending record by key and returns its value (copied: bbolt's memory is only valid inside
// the transaction).
func remove(tx *bolt.Tx, key string) ([]byte, bool, error) {
	keys := tx.Bucket(bucketKeys)
	seq := keys.Get([]byte(key))
	if seq == nil {
		return nil, false, nil
	}
	pend := tx.Bucket(bucketPending)
	val := append([]byte(nil), pend.Get(seq)...)
	if err := pend.Delete(seq); err != nil {
		return nil, false, err
	}
	if err := keys.Delete([]byte(key)); err != nil {
		return nil, false, err
	}
	if err := tx.Bucket(bucketSending).Delete([]byte(key)); err != nil {
		return nil, false, err
	}
	return val, true, nil
}
