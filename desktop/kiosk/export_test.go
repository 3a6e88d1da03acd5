package kiosk

// SetSendHook lets tests act between sync's reading of the outbox ("list"), its claim of a record ("claimed")
// and the write to the server.
func SetSendHook(c *SyncConfig, f func(stage, key string)) { c.sendHook = f }
