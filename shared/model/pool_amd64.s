//go:build amd64 && !purego

#include "textflag.h"

// func maxPool2x2AVX2(dst, src *float32, c, ho, wo int, plane, rowStride uintptr)
// 2x2 stride-2 max pooling of c channels (planes plane bytes apart, rows rowStride bytes apart) into dense
// dst[c][ho][wo]. wo >= 8: each output row is done in blocks of 8, the last block overlapping the previous one
// (recomputing a maximum is harmless).
TEXT ·maxPool2x2AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ c+16(FP), R8
	MOVQ wo+32(FP), R10
	MOVQ rowStride+48(FP), R12
	LEAQ -8(R10), R13            // start of the last block (outputs)
	SHLQ $2, R13                 // ... in dst bytes
chan:
	MOVQ ho+24(FP), R9
	MOVQ SI, R14                 // row pair start
row:
	XORQ AX, AX                  // output byte offset in the row
blk:
	CMPQ AX, R13
	JLE full
	MOVQ R13, AX                 // final overlapping block
full:
	LEAQ (R14)(AX*2), BX         // input offset = 2 * output offset
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMAXPS (BX)(R12*1), Y0, Y0
	VMAXPS 32(BX)(R12*1), Y1, Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VMAXPS Y3, Y2, Y2
	VPERMPD $0xD8, Y2, Y2
	VMOVUPS Y2, (DI)(AX*1)
	CMPQ AX, R13
	JEQ rowdone
	ADDQ $32, AX
	JMP blk
rowdone:
	LEAQ (DI)(R10*4), DI
	LEAQ (R14)(R12*2), R14
	DECQ R9
	JNZ row
	ADDQ plane+40(FP), SI
	DECQ R8
	JNZ chan
	VZEROUPPER
	RET

// func maxRowsAVX2(dst, src *float32, nrows int, rowStride uintptr, n int)
// dst[i] = max over r < nrows of src[r*rowStride/4 + i], for i < n; n >= 8 (last block overlaps).
TEXT ·maxRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rowStride+24(FP), R12
	MOVQ n+32(FP), R13
	LEAQ -32(R13*4), R13         // byte offset of the last block
	XORQ AX, AX
blk:
	CMPQ AX, R13
	JLE full
	MOVQ R13, AX
full:
	LEAQ (SI)(AX*1), BX
	VMOVUPS (BX), Y0
	MOVQ nrows+16(FP), CX
	DECQ CX
	JZ store
rows:
	ADDQ R12, BX
	VMAXPS (BX), Y0, Y0
	DECQ CX
	JNZ rows
store:
	VMOVUPS Y0, (DI)(AX*1)
	CMPQ AX, R13
	JEQ done
	ADDQ $32, AX
	JMP blk
done:
	VZEROUPPER
	RET

// func maxPool2x2AVX2x4(dst, src *float32, c, ho, wo int, plane, rowStride uintptr)
// maxPool2x2AVX2 for 4 <= wo < 8: blocks of 4 outputs, the last one overlapping.
TEXT ·maxPool2x2AVX2x4(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ c+16(FP), R8
	MOVQ wo+32(FP), R10
	MOVQ rowStride+48(FP), R12
	LEAQ -4(R10), R13
	SHLQ $2, R13
chan:
	MOVQ ho+24(FP), R9
	MOVQ SI, R14
row:
	XORQ AX, AX
blk:
	CMPQ AX, R13
	JLE full
	MOVQ R13, AX
full:
	LEAQ (R14)(AX*2), BX
	VMOVUPS (BX), Y0
	VMAXPS (BX)(R12*1), Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VSHUFPS $0x88, X1, X0, X2
	VSHUFPS $0xDD, X1, X0, X3
	VMAXPS X3, X2, X2
	VMOVUPS X2, (DI)(AX*1)
	CMPQ AX, R13
	JEQ rowdone
	ADDQ $16, AX
	JMP blk
rowdone:
	LEAQ (DI)(R10*4), DI
	LEAQ (R14)(R12*2), R14
	DECQ R9
	JNZ row
	ADDQ plane+40(FP), SI
	DECQ R8
	JNZ chan
	VZEROUPPER
	RET
