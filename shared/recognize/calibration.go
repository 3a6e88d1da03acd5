package recognize

// Calibration is what a model card says about running its model (assets.Card: input_scale and calibration
// {temperature, confirm_threshold, confirm_model, strokes {confirm_threshold, confirm_model}}); zero values mean
// "not stated". It is the one rule by which the server,
// the kiosk and the web pad (at start and after a model swap, through the wasm bridge) configure a recogniser
// from a card.
type Calibration struct {
	InputScale  float32
	Temperature float64
	Threshold   float64
	Confirm     ConfirmModel
	// StrokeThreshold and StrokeConfirm are the confirm policy of stroke input (Config.StrokeThreshold).
	StrokeThreshold float64
	StrokeConfirm   ConfirmModel
}

// Configure fills cfg from the card: input scale, temperature, confirm model, and the confirm thresholds and
// stroke confirm model unless cfg already sets a threshold (an operator's explicit threshold wins, for every
// input; it applies to the card's image confirm scores).
func (c Calibration) Configure(cfg Config) Config {
	cfg.InputScale = c.InputScale
	cfg.Temperature = c.Temperature
	cfg.Confirm = c.Confirm
	if cfg.Threshold == 0 {
		cfg.Threshold = c.Threshold
		if cfg.StrokeThreshold == 0 {
			cfg.StrokeThreshold, cfg.StrokeConfirm = c.StrokeThreshold, c.StrokeConfirm
		}
	}
	return cfg
}
