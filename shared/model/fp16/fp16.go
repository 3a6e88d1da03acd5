// Package fp16 converts between IEEE 754 binary16 ("half", ONNX FLOAT16) bit patterns and float32.
// Conversions to half round to nearest, ties to even, keep subnormals, overflow to infinity and keep NaN a NaN
// (quiet, sign preserved); conversions to float32 are exact.
package fp16

import "math"

// FromFloat32 returns the binary16 bit pattern nearest to f.
func FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	case exp == 0 && mant == 0:
		return sign
	}
	// Unbiased exponent; float32 subnormals are far below the half range and round to zero below.
	e := exp - 127
	if exp == 0 {
		e = -126
	} else {
		mant |= 0x800000 // implicit leading one
	}
	switch {
	case e > 15:
		return sign | 0x7c00
	case e >= -14: // normal half: keep 10 of 23 mantissa bits
		h := uint32(e+15)<<10 | (mant>>13)&0x3ff
		return sign | uint16(roundShift(h, mant&0x1fff, 13))
	case e >= -25: // subnormal half: value = m * 2^-24
		shift := uint32(-e - 14 + 13) // 14..24
		h := mant >> shift
		rem := mant & (1<<shift - 1)
		return sign | uint16(roundShift(h, rem, shift))
	default:
		return sign
	}
}

// roundShift rounds h (the kept bits) by the dropped bits rem of width shift, ties to even. A carry out of
// the mantissa correctly bumps the exponent (up to infinity).
func roundShift(h, rem, shift uint32) uint32 {
	half := uint32(1) << (shift - 1)
	if rem > half || (rem == half && h&1 == 1) {
		h++
	}
	return h
}

// ToFloat32 returns the float32 value of the binary16 bit pattern h (exactly).
func ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}
