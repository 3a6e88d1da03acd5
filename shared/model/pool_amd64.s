//go:build amd64 && !purego

#include "textflag.h"

// func maxPool2AVX2(dst, r0, r1 *float32, n int)
// dst[j] = max(r0[2j], r0[2j+1], r1[2j], r1[2j+1]) for j < n; n is a multiple of 8.
TEXT ·maxPool2AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ done
loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMAXPS (DX), Y0, Y0
	VMAXPS 32(DX), Y1, Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VMAXPS Y3, Y2, Y2
	VPERMPD $0xD8, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $32, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func maxVecAVX2(dst, a, b *float32, n int)
// dst[i] = max(a[i], b[i]) for i < n; n is a multiple of 8.
TEXT ·maxVecAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ done
loop:
	VMOVUPS (SI), Y0
	VMAXPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
