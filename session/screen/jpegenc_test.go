package screen

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
)

func TestFDCT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var b [64]float32
	var in [64]float64
	for i := range b {
		in[i] = rng.Float64()*255 - 128
		b[i] = float32(in[i])
	}
	fdct(&b)
	for u := range 8 {
		for v := range 8 {
			var s float64
			for y := range 8 {
				for x := range 8 {
					s += in[y*8+x] * math.Cos(float64(2*y+1)*float64(u)*math.Pi/16) * math.Cos(float64(2*x+1)*float64(v)*math.Pi/16)
				}
			}
			cu, cv := 1.0, 1.0
			if u == 0 {
				cu = math.Sqrt2 / 2
			}
			if v == 0 {
				cv = math.Sqrt2 / 2
			}
			want := s * cu * cv / 4
			if got := float64(b[u*8+v]) * aanScale[u] * aanScale[v]; math.Abs(got-want) > 1e-3 {
				t.Fatalf("coefficient %d,%d = %f, want %f", u, v, got, want)
			}
		}
	}
}

// jpegFile wraps a scan as the decoder does.
func jpegFile(q *jpegQuant, scan []byte, w, h int, full bool) []byte {
	j := []byte{0xff, 0xd8}
	j = append(j, q.tables...)
	j = appendSOF0(j, w, h, full)
	j = append(j, sosHeader...)
	j = append(j, scan...)
	return append(j, 0xff, 0xd9)
}

func TestJPEGEncoder(t *testing.T) {
	img := NewImage(77, 45)
	rng := rand.New(rand.NewPCG(2, 2))
	for y := range img.H {
		for x := range img.W {
			o := y*img.Stride + 4*x
			img.Pix[o] = byte(x * 3)
			img.Pix[o+1] = byte(y*5 + rng.IntN(8))
			img.Pix[o+2] = byte(x + y)
		}
	}
	for _, tc := range []struct {
		full    bool
		quality int
		minPSNR float64
	}{{true, 0, highPSNR - 0.5}, {false, 75, 30}, {false, 50, 28}} {
		var enc jpegEnc
		scan, q := enc.encode(img, img.Bounds(), !tc.full, tc.quality, highMSE, highMaxBits)
		m, err := jpeg.Decode(bytes.NewReader(jpegFile(q, scan, img.W, img.H, tc.full)))
		if err != nil {
			t.Fatalf("full=%v: decode: %v", tc.full, err)
		}
		ycc := m.(*image.YCbCr)
		var se float64
		for y := range img.H {
			for x := range img.W {
				r, g, b, _ := ycc.At(x, y).RGBA()
				o := y*img.Stride + 4*x
				for k, v := range []uint32{b >> 8, g >> 8, r >> 8} {
					d := float64(v) - float64(img.Pix[o+k])
					se += d * d
				}
			}
		}
		psnr := 10 * math.Log10(255*255/(se/float64(3*img.W*img.H)))
		if psnr < tc.minPSNR {
			t.Errorf("full=%v quality %d: PSNR %.1f dB, want >= %.1f", tc.full, q.quality, psnr, tc.minPSNR)
		}
	}
}
