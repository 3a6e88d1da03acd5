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

// CardCalibrations are the names of a model card's calibration objects in the order a reader configured as cfg
// takes them: first the one fitted on its own reading (a threshold holds only for the reading it was chosen on) —
// with the second reader "calibration"; with the pair reader but no second reader "calibration_without_second";
// with neither (the browser's pad) "calibration_digit_model_only" — then the nearest readings a card may state
// instead (older cards). assets.Card.For and the wasm bridge both pick by it.
func CardCalibrations(cfg Config) []string {
	switch {
	case cfg.Second != nil:
		return []string{"calibration"}
	case cfg.Pair != nil:
		return []string{"calibration_without_second", "calibration"}
	default:
		return []string{"calibration_digit_model_only", "calibration_without_second", "calibration"}
	}
}
