// int8.go writes qkernels_amd64.s: int8 GEMM micro-kernels for AVX-512 VNNI, up to 8 rows x 32 columns
// (two ZMM vectors of 16 int32 lanes), one function per row count plus two that fuse 2x2 max pooling (rows in
// groups of four). See qtileFunc in qkernels.go for the contract. VPDPBUSD multiplies four unsigned activation
// bytes (broadcast from the row's quad) with four signed weight bytes per lane and accumulates into int32
// without intermediate saturation, which is why activations are stored as uint8 and weights as int8.

package kernelgen

import (
	"bytes"
	"fmt"
)

// int8Kernel is one generated int8 kernel: rows rows, or with pool rows/4 rows each the maximum of 4.
type int8Kernel struct {
	name string
	rows int
	pool bool
}

// int8Kernels are the VNNI kernels in qkernels_amd64.s.
func int8Kernels() []int8Kernel {
	var ks []int8Kernel
	for rows := 1; rows <= 8; rows++ {
		ks = append(ks, int8Kernel{fmt.Sprintf("qgemmVNNIR%d", rows), rows, false})
	}
	return append(ks, int8Kernel{"qgemmVNNIP4", 4, true}, int8Kernel{"qgemmVNNIP8", 8, true})
}

// int8Asm is qkernels_amd64.s.
func int8Asm() []byte {
	var b bytes.Buffer
	b.WriteString(asmHeader)
	for _, k := range int8Kernels() {
		emitInt8(&b, k.name, k.rows, k.pool)
	}
	return b.Bytes()
}

var rowPtr = []string{"BX", "DX", "SI", "R9", "R10", "R11", "R13", "R14"}

func qacc(r, j int) string { return fmt.Sprintf("Z%d", 10+2*r+j) }

func emitInt8(b *bytes.Buffer, name string, rows int, pool bool) {
	p := func(format string, args ...any) { fmt.Fprintf(b, "\t"+format+"\n", args...) }
	label := func(l string) { fmt.Fprintf(b, "%s:\n", l) }
	fmt.Fprintf(b, "\n// func %s(a *uint8, rowOff *int32, off *int32, kq int, b *int8, c *byte, ldc uintptr, nt int, mask uintptr, scale *float32, bias *float32, clamp *[2]float32, flags uintptr)\n", name)
	fmt.Fprintf(b, "TEXT ·%s(SB), NOSPLIT, $0-104\n", name)
	p("MOVQ a+0(FP), AX")
	p("MOVQ rowOff+8(FP), CX")
	for r := 0; r < rows; r++ {
		p("MOVLQSX %d(CX), %s", 4*r, rowPtr[r])
		p("ADDQ AX, %s", rowPtr[r])
	}
	p("MOVQ b+32(FP), DI")
	p("MOVQ nt+56(FP), R12")
	p("MOVQ clamp+88(FP), AX")
	p("VBROADCASTSS (AX), Z30")
	p("VBROADCASTSS 4(AX), Z31")
	label("tile")
	p("MOVQ off+16(FP), R8")
	p("MOVQ kq+24(FP), CX")
	for r := 0; r < rows; r++ {
		for j := 0; j < 2; j++ {
			p("VPXORD %s, %s, %s", qacc(r, j), qacc(r, j), qacc(r, j))
		}
	}
	label("kloop")
	p("MOVLQSX (R8), AX")
	p("VMOVDQU32 (DI), Z0")
	p("VMOVDQU32 64(DI), Z1")
	for r := 0; r < rows; r++ {
		bc := fmt.Sprintf("Z%d", 2+r)
		p("VPBROADCASTD (%s)(AX*1), %s", rowPtr[r], bc)
		p("VPDPBUSD Z0, %s, %s", bc, qacc(r, 0))
		p("VPDPBUSD Z1, %s, %s", bc, qacc(r, 1))
	}
	p("ADDQ $128, DI")
	p("ADDQ $4, R8")
	p("DECQ CX")
	p("JNZ kloop")
	outRows := rows
	src := func(r int) int { return r }
	if pool {
		outRows = rows / 4
		for g := 0; g < outRows; g++ {
			for k := 1; k < 4; k++ {
				for j := 0; j < 2; j++ {
					p("VPMAXSD %s, %s, %s", qacc(4*g+k, j), qacc(4*g, j), qacc(4*g, j))
				}
			}
		}
		src = func(r int) int { return 4 * r }
	}
	// Store masks: whole tiles, except for the last one.
	p("CMPQ R12, $1")
	p("JNE fullmask")
	p("MOVQ mask+64(FP), AX")
	p("KMOVW AX, K1")
	p("SHRQ $16, AX")
	p("KMOVW AX, K2")
	p("JMP masks")
	label("fullmask")
	p("KXNORW K1, K1, K1")
	p("KXNORW K2, K2, K2")
	label("masks")
	p("MOVQ scale+72(FP), AX")
	p("VMOVUPS (AX), Z26")
	p("VMOVUPS 64(AX), Z27")
	p("ADDQ $128, AX")
	p("MOVQ AX, scale+72(FP)")
	p("MOVQ bias+80(FP), AX")
	p("VMOVUPS (AX), Z28")
	p("VMOVUPS 64(AX), Z29")
	p("ADDQ $128, AX")
	p("MOVQ AX, bias+80(FP)")
	for r := 0; r < outRows; r++ {
		for j := 0; j < 2; j++ {
			a := qacc(src(r), j)
			p("VCVTDQ2PS %s, %s", a, a)
			p("VFMADD213PS Z%d, Z%d, %s", 28+j, 26+j, a)
			p("VMAXPS Z30, %s, %s", a, a)
			p("VMINPS Z31, %s, %s", a, a)
		}
	}
	p("MOVQ c+40(FP), AX")
	p("MOVQ ldc+48(FP), CX")
	p("MOVQ flags+96(FP), R8")
	p("TESTQ $1, R8")
	p("JZ storefloat")
	for r := 0; r < outRows; r++ {
		for j := 0; j < 2; j++ {
			a := qacc(src(r), j)
			p("VCVTPS2DQ %s, %s", a, a)
			p("VPMOVUSDB %s, K%d, %d(AX)", a, j+1, 16*j)
		}
		if r+1 < outRows {
			p("ADDQ CX, AX")
		}
	}
	p("ADDQ $32, c+40(FP)")
	p("JMP next")
	label("storefloat")
	for r := 0; r < outRows; r++ {
		for j := 0; j < 2; j++ {
			p("VMOVUPS %s, K%d, %d(AX)", qacc(src(r), j), j+1, 64*j)
		}
		if r+1 < outRows {
			p("ADDQ CX, AX")
		}
	}
	p("ADDQ $128, c+40(FP)")
	label("next")
	p("DECQ R12")
	p("JNZ tile")
	p("VZEROUPPER")
	p("RET")
}
