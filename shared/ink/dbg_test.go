package ink_test

import (
	"fmt"
	"image/png"
	"os"
	"testing"

	"digitpad/shared/ink"
)

func TestDbg(t *testing.T) {
	for _, f := range []string{"83941_mnist_dark.png", "20500_mnist.png", "52468_hurried.png"} {
		fh, _ := os.Open("../../assets/samples/" + f)
		img, _ := png.Decode(fh)
		ds := mustSegmentImage(t, img, ink.Options{})
		fmt.Println(f)
		for i := 0; i+1 < len(ds); i += 2 {
			fmt.Println(ds[i].Box, ds[i+1].Box)
			fmt.Print(sideBySide(&ds[i].Input, &ds[i+1].Input))
		}
		fmt.Println(ds[len(ds)-1].Box)
	}
}
