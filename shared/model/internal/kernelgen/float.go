// float.go writes kernels_amd64.s: GEMM micro-kernels for AVX2+FMA (up to 4 rows x 24 columns) and AVX-512
// (up to 8 rows x 32 columns). One function per row count keeps every register allocation static.
//
// Every kernel computes, for nt consecutive column tiles t:
//
//	C[r][t*nr+j] = epilogue( sum_k A[r*lda+k] * B[t*bstride + off[k] + j] )
//
// with byte offsets off[k] (so the same kernel runs implicit-GEMM convolutions over a padded image and plain
// GEMMs over packed weight panels) and an epilogue of row bias (flags&2), column bias (flags&4) and ReLU (flags&1).

package kernelgen

import (
	"bytes"
	"fmt"
)

type isa struct {
	name    string // function name prefix
	reg     string // Y or Z
	width   int    // floats per vector register
	vecs    int    // vectors per tile row
	maxRows int
	zero    string // instruction to zero a register
}

// floatISAs are the float kernels' instruction sets: tiles of 24 columns (3 YMM vectors) up to 4 rows with
// AVX2+FMA, 32 columns (2 ZMM vectors) up to 8 rows with AVX-512.
var floatISAs = []isa{
	{name: "gemmAVX2R", reg: "Y", width: 8, vecs: 3, maxRows: 4, zero: "VXORPS"},
	{name: "gemmAVX512R", reg: "Z", width: 16, vecs: 2, maxRows: 8, zero: "VPXORD"},
}

// floatAsm is kernels_amd64.s.
func floatAsm() []byte {
	var b bytes.Buffer
	b.WriteString(asmHeader)
	for _, s := range floatISAs {
		for rows := 1; rows <= s.maxRows; rows++ {
			emitFloat(&b, s, rows)
		}
	}
	return b.Bytes()
}

func emitFloat(b *bytes.Buffer, s isa, rows int) {
	p := func(format string, args ...any) { fmt.Fprintf(b, "\t"+format+"\n", args...) }
	vb := func(j int) string { return fmt.Sprintf("%s%d", s.reg, j) } // B vectors
	bc := s.vecs                                                      // broadcast register index
	accBase := s.vecs + 1
	if s.reg == "Z" {
		accBase = s.vecs + 8 // a broadcast register per row avoids reusing one register 8 times
	}
	bcast := func(r int) string {
		if s.reg == "Z" {
			return fmt.Sprintf("Z%d", bc+r)
		}
		return fmt.Sprintf("Y%d", bc)
	}
	acc := func(r, j int) string { return fmt.Sprintf("%s%d", s.reg, accBase+r*s.vecs+j) }
	// A element address for row r: rows 0-3 from SI, rows 4-7 from R9 (= SI + 4*lda).
	aAddr := func(r int) string {
		base := "SI"
		if r >= 4 {
			base = "R9"
		}
		switch r % 4 {
		case 0:
			return "(" + base + ")"
		case 1:
			return "(" + base + ")(DX*1)"
		case 2:
			return "(" + base + ")(DX*2)"
		default:
			return "(" + base + ")(BX*1)"
		}
	}
	vbytes := s.width * 4
	name := fmt.Sprintf("%s%d", s.name, rows)
	fmt.Fprintf(b, "\n// func %s(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)\n", name)
	fmt.Fprintf(b, "TEXT ·%s(SB), NOSPLIT, $0-88\n", name)
	p("MOVQ lda+8(FP), DX")
	p("LEAQ (DX)(DX*2), BX")
	p("MOVQ b+16(FP), DI")
	p("MOVQ c+40(FP), R10")
	p("MOVQ ldc+48(FP), R11")
	p("MOVQ nt+56(FP), R12")
	p("MOVQ bstride+64(FP), R13")
	p("MOVQ bias+72(FP), R14")
	fmt.Fprintf(b, "tile:\n")
	p("MOVQ a+0(FP), SI")
	if rows > 4 {
		p("LEAQ (SI)(DX*4), R9")
	}
	p("MOVQ off+24(FP), R8")
	p("MOVQ k+32(FP), CX")
	for r := 0; r < rows; r++ {
		for j := 0; j < s.vecs; j++ {
			p("%s %s, %s, %s", s.zero, acc(r, j), acc(r, j), acc(r, j))
		}
	}
	fmt.Fprintf(b, "kloop:\n")
	p("MOVLQSX (R8), AX")
	for j := 0; j < s.vecs; j++ {
		p("VMOVUPS %d(DI)(AX*1), %s", j*vbytes, vb(j))
	}
	for r := 0; r < rows; r++ {
		p("VBROADCASTSS %s, %s", aAddr(r), bcast(r))
		for j := 0; j < s.vecs; j++ {
			p("VFMADD231PS %s, %s, %s", vb(j), bcast(r), acc(r, j))
		}
	}
	p("ADDQ $4, SI")
	if rows > 4 {
		p("ADDQ $4, R9")
	}
	p("ADDQ $4, R8")
	p("DECQ CX")
	p("JNZ kloop")
	// Epilogue.
	p("MOVQ flags+80(FP), AX")
	p("TESTQ $2, AX")
	p("JZ norowbias")
	for r := 0; r < rows; r++ {
		p("VBROADCASTSS %d(R14), %s", r*4, vb(0))
		for j := 0; j < s.vecs; j++ {
			p("VADDPS %s, %s, %s", vb(0), acc(r, j), acc(r, j))
		}
	}
	fmt.Fprintf(b, "norowbias:\n")
	p("TESTQ $4, AX")
	p("JZ nocolbias")
	for j := 0; j < s.vecs; j++ {
		p("VMOVUPS %d(R14), %s", j*vbytes, vb(j))
	}
	for r := 0; r < rows; r++ {
		for j := 0; j < s.vecs; j++ {
			p("VADDPS %s, %s, %s", vb(j), acc(r, j), acc(r, j))
		}
	}
	p("ADDQ $%d, R14", s.vecs*vbytes)
	fmt.Fprintf(b, "nocolbias:\n")
	p("TESTQ $1, AX")
	p("JZ norelu")
	p("%s %s, %s, %s", s.zero, vb(0), vb(0), vb(0))
	for r := 0; r < rows; r++ {
		for j := 0; j < s.vecs; j++ {
			p("VMAXPS %s, %s, %s", vb(0), acc(r, j), acc(r, j))
		}
	}
	fmt.Fprintf(b, "norelu:\n")
	p("MOVQ R10, AX")
	for r := 0; r < rows; r++ {
		for j := 0; j < s.vecs; j++ {
			p("VMOVUPS %s, %d(AX)", acc(r, j), j*vbytes)
		}
		if r+1 < rows {
			p("ADDQ R11, AX")
		}
	}
	p("ADDQ $%d, R10", s.vecs*vbytes)
	p("ADDQ R13, DI")
	p("DECQ R12")
	p("JNZ tile")
	p("VZEROUPPER")
	p("RET")
}
