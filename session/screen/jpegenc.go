package screen

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// A baseline JPEG encoder for photo-like rectangles: 8-bit, three
// components, the example Huffman tables of ITU T.81 Annex K, chroma either
// full resolution (4:4:4) or halved both ways (4:2:0). It exists, rather
// than image/jpeg's encoder, for two things that one cannot do: 4:4:4
// (4:2:0 alone caps fine-textured photos near 36 dB) and choosing the
// quality per rectangle from the quantization error, which is known exactly
// in the DCT domain, so that High spends just enough bytes for its PSNR.
// Decoding is image/jpeg's.

// zigzag maps a position in zigzag order to its index in natural order.
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

// baseQuant are the example quantization tables of Annex K, natural order.
var baseQuant = [2][64]uint8{{
	16, 11, 10, 16, 24, 40, 51, 61,
	12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56,
	14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77,
	24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101,
	72, 92, 95, 98, 112, 100, 103, 99,
}, {
	17, 18, 24, 47, 99, 99, 99, 99,
	18, 21, 26, 66, 99, 99, 99, 99,
	24, 26, 56, 99, 99, 99, 99, 99,
	47, 66, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
}}

type huffSpec struct {
	counts [16]byte
	values []byte
}

// huffSpecs are the example Huffman tables of Annex K: luminance DC and AC,
// chrominance DC and AC.
var huffSpecs = [4]huffSpec{
	{[16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
		[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{[16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125}, []byte{
		0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
		0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
		0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
		0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
		0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
		0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
		0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
		0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa}},
	{[16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
		[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{[16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119}, []byte{
		0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
		0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
		0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
		0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
		0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
		0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
		0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
		0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
		0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
		0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa}},
}

// huffCode is a code word: its bits, right-aligned, and its length.
type huffCode struct {
	bits uint16
	n    uint8
}

// huffTables are the code words of huffSpecs, by symbol.
var huffTables = func() (t [4][256]huffCode) {
	for i, s := range huffSpecs {
		code, k := uint16(0), 0
		for n := range 16 {
			for range s.counts[n] {
				t[i][s.values[k]] = huffCode{code, uint8(n + 1)}
				code++
				k++
			}
			code <<= 1
		}
	}
	return t
}()

// aanScale undoes the scaling of the AAN DCT: the true coefficient (u, v) is
// the AAN output times aanScale[u]*aanScale[v].
var aanScale = func() (s [8]float64) {
	for k := range 8 {
		c := 1.0
		if k > 0 {
			c = math.Cos(float64(k)*math.Pi/16) * math.Sqrt2
		}
		s[k] = 1 / (c * math.Sqrt(8))
	}
	return s
}()

// jpegQuant is a quantization set for one quality: the tables as the
// decoder receives them (DQT and DHT segments) and, per table, the step of
// each coefficient and its reciprocal folded with aanScale.
type jpegQuant struct {
	quality int
	tables  []byte
	step    [2][64]float32 // natural order
	inv     [2][64]float32 // 1 / (step / aanScale[u] aanScale[v])
	scale   [64]float32    // aanScale[u] aanScale[v]
}

func newJPEGQuant(quality int) *jpegQuant {
	q := &jpegQuant{quality: quality}
	s := 200 - 2*quality
	if quality < 50 {
		s = 5000 / quality
	}
	t := []byte{0xff, 0xdb, 0, 132}
	for i := range 2 {
		t = append(t, byte(i))
		for _, n := range zigzag {
			v := min(max((int(baseQuant[i][n])*s+50)/100, 1), 255)
			t = append(t, byte(v))
			q.step[i][n] = float32(v)
		}
	}
	dht := len(t)
	t = append(t, 0xff, 0xc4, 0, 0)
	for i, h := range huffSpecs {
		t = append(t, "\x00\x10\x01\x11"[i])
		t = append(t, h.counts[:]...)
		t = append(t, h.values...)
	}
	binary.BigEndian.PutUint16(t[dht+2:], uint16(len(t)-dht-2))
	q.tables = t
	for n := range 64 {
		q.scale[n] = float32(aanScale[n/8] * aanScale[n%8])
		for i := range 2 {
			q.inv[i][n] = q.scale[n] / q.step[i][n]
		}
	}
	return q
}

// highQualities are the qualities High chooses from, lowest first.
var highQualities = []int{30, 40, 50, 60, 65, 70, 74, 78, 81, 84, 86, 88, 90, 92, 94, 95, 96, 97, 98, 99}

// jpegEnc encodes rectangles as JPEG scans. Its buffers are reused.
type jpegEnc struct {
	quants  map[int]*jpegQuant
	planes  [3][]float32 // Y, Cb, Cr, padded to whole MCUs (chroma halved for 4:2:0)
	coef    [3][]float32 // AAN outputs, 64 a block, blocks in raster order
	pw, ph  int          // padded luma size
	last    int          // index in highQualities of the last quality chosen for its error
	lastCap int          // index in highQualities of the last quality capped for its rate
	capped  bool         // the last rectangle's quality was capped for its rate
	acc     uint64
	nacc    uint
	out     []byte
}

func (j *jpegEnc) quant(quality int) *jpegQuant {
	if j.quants == nil {
		j.quants = make(map[int]*jpegQuant)
	}
	q := j.quants[quality]
	if q == nil {
		q = newJPEGQuant(quality)
		j.quants[quality] = q
	}
	return q
}

// encode returns the scan of rectangle r of img, with chroma halved if sub,
// and its quantization set: that of quality if quality > 0, else (4:4:4
// only) the lowest of highQualities whose error stays under maxMSE (mean
// squared error per channel in RGB), or the highest, but never one whose
// scan takes more than maxBits bits per pixel if a lower one does not
// (maxBits 0: no limit).
func (j *jpegEnc) encode(img *Image, r Rect, sub bool, quality int, maxMSE, maxBits float64) ([]byte, *jpegQuant) {
	mcu := 8
	if sub {
		mcu = 16
	}
	j.pw, j.ph = (r.W+mcu-1)/mcu*mcu, (r.H+mcu-1)/mcu*mcu
	j.toYCbCr(img, r, sub)
	for c := range 3 {
		w, h := j.pw, j.ph
		if sub && c > 0 {
			w, h = w/2, h/2
		}
		j.coef[c] = fdctPlane(j.coef[c][:0], j.planes[c], w, h)
	}
	var q *jpegQuant
	if quality > 0 {
		q = j.quant(quality)
	} else {
		// Start from the quality the last rectangle needed: neighbours
		// tend to need the same.
		i := j.last
		ok := func(i int) bool { return j.mse(j.quant(highQualities[i]), maxMSE) <= maxMSE }
		if ok(i) {
			for i > 0 && ok(i-1) {
				i--
			}
		} else {
			for i < len(highQualities)-1 {
				if i++; ok(i) {
					break
				}
			}
		}
		j.last = i
		limit := maxBits * float64(j.pw*j.ph)
		if maxBits > 0 && highQualities[i] >= rateCheckQuality {
			// Counting the bits costs about half a scan: do it first only
			// where the last rectangle needed capping (noise comes in
			// large areas), else only when the scan turns out too long.
			c := i
			if j.capped {
				c = j.capRate(i, limit)
			} else if j.scan(j.quant(highQualities[i]), sub); float64(8*len(j.out)) <= limit {
				return j.out, j.quant(highQualities[i])
			} else {
				c = j.capRate(i, limit)
			}
			j.capped = c < i
			i = c
		} else {
			j.capped = false
		}
		q = j.quant(highQualities[i])
	}
	j.scan(q, sub)
	return j.out, q
}

// rateCheckQuality is the lowest quality at which encode checks the rate
// against its limit. Content that keeps the error under the target at a
// lower quality has small coefficients, and so a low rate (on the photos
// measured, under 1 bit per pixel); only noise needs qualities above 90
// and then takes 3 to 10 bits per pixel.
const rateCheckQuality = 86

// capRate returns the highest index up to i in highQualities whose scan
// takes at most limit bits (or 0), starting from the one the last capped
// rectangle got.
func (j *jpegEnc) capRate(i int, limit float64) int {
	fits := func(i int) bool { return float64(j.bits(j.quant(highQualities[i]))) <= limit }
	c := min(j.lastCap, i)
	if fits(c) {
		for c < i && fits(c+1) {
			c++
		}
	} else {
		for c > 0 {
			if c--; fits(c) {
				break
			}
		}
	}
	j.lastCap = c
	return c
}

// bits returns the size in bits of the 4:4:4 scan of the coefficients
// quantized with q, as scan would write it but for the stuffed zero bytes.
func (j *jpegEnc) bits(q *jpegQuant) int {
	n := 0
	for c := range 3 {
		t := min(c, 1)
		dcT, acT := &huffTables[2*t], &huffTables[2*t+1]
		inv := &q.inv[t]
		coef := j.coef[c]
		prev := 0
		for i := 0; i+64 <= len(coef); i += 64 {
			blk := (*[64]float32)(coef[i : i+64])
			dc := int(round32(blk[0] * inv[0]))
			n += valueBits(dcT, 0, dc-prev)
			prev = dc
			run := 0
			for _, k := range zigzag[1:] {
				v := int(round32(blk[k] * inv[k]))
				if v == 0 {
					run++
					continue
				}
				for run > 15 {
					n += int(acT[0xf0].n)
					run -= 16
				}
				n += valueBits(acT, run, v)
				run = 0
			}
			if run > 0 {
				n += int(acT[0].n)
			}
		}
	}
	return n
}

// quantizeAC sets zz[k], for k from 1 to 63, to the AC coefficient at
// zigzag position k of blk quantized with inv, and returns the mask of the
// positions whose value is not zero (bit k for position k).
func quantizeAC(blk, inv *[64]float32, zz *[64]int32) uint64 {
	var nz uint64
	for k := 1; k < 64; k++ {
		n := zigzag[k]
		v := int32(round32(blk[n] * inv[n]))
		zz[k] = v
		if v != 0 {
			nz |= 1 << k
		}
	}
	return nz
}

// valueBits is the number of bits emitValue writes for run and v.
func valueBits(t *[256]huffCode, run, v int) int {
	size := bits.Len(uint(max(v, -v)))
	return int(t[run<<4|size].n) + size
}

// toYCbCr fills the planes from r of img, repeating the last column and row
// into the padding.
func (j *jpegEnc) toYCbCr(img *Image, r Rect, sub bool) {
	n := j.pw * j.ph
	for c := range 3 {
		if cap(j.planes[c]) < n {
			j.planes[c] = make([]float32, n)
		}
		j.planes[c] = j.planes[c][:n]
	}
	py, pb, pr := j.planes[0], j.planes[1], j.planes[2]
	for y := range j.ph {
		o := y * j.pw
		if y >= r.H { // padding: the last row again
			for _, p := range [3][]float32{py, pb, pr} {
				copy(p[o:o+j.pw], p[o-j.pw:o])
			}
			continue
		}
		row := img.Pix[(r.Y+y)*img.Stride+4*r.X:]
		row = row[:4*r.W]
		ry, rb, rr := py[o:o+r.W], pb[o:o+r.W], pr[o:o+r.W]
		for x := range ry {
			p := row[4*x : 4*x+3]
			b, g, red := float32(p[0]), float32(p[1]), float32(p[2])
			ry[x] = 0.299*red + 0.587*g + 0.114*b - 128
			rb[x] = -0.168736*red - 0.331264*g + 0.5*b
			rr[x] = 0.5*red - 0.418688*g - 0.081312*b
		}
		for x := r.W; x < j.pw; x++ { // padding: the last column again
			py[o+x], pb[o+x], pr[o+x] = ry[r.W-1], rb[r.W-1], rr[r.W-1]
		}
	}
	if !sub {
		return
	}
	w := j.pw / 2
	for _, p := range [][]float32{pb, pr} {
		for y := range j.ph / 2 {
			for x := range w {
				o := 2*y*j.pw + 2*x
				p[y*w+x] = 0.25 * (p[o] + p[o+1] + p[o+j.pw] + p[o+j.pw+1])
			}
		}
	}
}

// fdctPlane appends the AAN DCT of every 8×8 block of the w×h plane p (w
// and h multiples of 8), blocks in raster order.
func fdctPlane(dst, p []float32, w, h int) []float32 {
	for by := 0; by < h; by += 8 {
		for bx := 0; bx < w; bx += 8 {
			var b [64]float32
			for y := range 8 {
				copy(b[8*y:8*y+8], p[(by+y)*w+bx:])
			}
			fdct(&b)
			dst = append(dst, b[:]...)
		}
	}
	return dst
}

// fdct is the Arai-Agui-Nakajima forward DCT, in place; outputs are scaled
// by 1/(aanScale[u] aanScale[v]).
func fdct(b *[64]float32) {
	for i := 0; i < 64; i += 8 {
		fdct8(b, i, 1)
	}
	for i := range 8 {
		fdct8(b, i, 8)
	}
}

func fdct8(b *[64]float32, o, s int) {
	d0, d1, d2, d3 := b[o], b[o+s], b[o+2*s], b[o+3*s]
	d4, d5, d6, d7 := b[o+4*s], b[o+5*s], b[o+6*s], b[o+7*s]
	t0, t7 := d0+d7, d0-d7
	t1, t6 := d1+d6, d1-d6
	t2, t5 := d2+d5, d2-d5
	t3, t4 := d3+d4, d3-d4

	t10, t13 := t0+t3, t0-t3
	t11, t12 := t1+t2, t1-t2
	b[o] = t10 + t11
	b[o+4*s] = t10 - t11
	z1 := (t12 + t13) * 0.707106781
	b[o+2*s] = t13 + z1
	b[o+6*s] = t13 - z1

	t10 = t4 + t5
	t11 = t5 + t6
	t12 = t6 + t7
	z5 := (t10 - t12) * 0.382683433
	z2 := 0.541196100*t10 + z5
	z4 := 1.306562965*t12 + z5
	z3 := t11 * 0.707106781
	z11, z13 := t7+z3, t7-z3
	b[o+5*s] = z13 + z2
	b[o+3*s] = z13 - z2
	b[o+s] = z11 + z4
	b[o+7*s] = z11 - z4
}

// mse estimates the mean squared error per RGB channel that quantizing the
// coefficients with q leaves (4:4:4 only), or some value over limit once it
// is sure to exceed it. The DCT is orthonormal, so the error of a plane is
// the error of its coefficients; the weights carry it through the YCbCr to
// RGB conversion. Rounding in the decoder adds about 0.3 on top.
func (j *jpegEnc) mse(q *jpegQuant, limit float64) float64 {
	n := float64(j.pw * j.ph)
	weights := [3]float64{1, 1.0861, 0.8252}
	total := 0.3 * n
	for c := range 3 {
		inv, step := &q.inv[min(c, 1)], &q.step[min(c, 1)]
		coef := j.coef[c]
		var s float64
		for i := 0; i+64 <= len(coef); i += 64 {
			blk := (*[64]float32)(coef[i : i+64])
			// Four sums side by side, so that the additions overlap.
			var s0, s1, s2, s3 float32
			for k := 0; k < 64; k += 4 {
				v0, v1, v2, v3 := blk[k]*inv[k], blk[k+1]*inv[k+1], blk[k+2]*inv[k+2], blk[k+3]*inv[k+3]
				d0 := (v0 - round32(v0)) * step[k]
				d1 := (v1 - round32(v1)) * step[k+1]
				d2 := (v2 - round32(v2)) * step[k+2]
				d3 := (v3 - round32(v3)) * step[k+3]
				s0, s1, s2, s3 = s0+d0*d0, s1+d1*d1, s2+d2*d2, s3+d3*d3
			}
			s += float64((s0 + s1) + (s2 + s3))
		}
		if total += weights[c] * s; total > limit*n {
			break
		}
	}
	return total / n
}

// roundMagic is 1.5·2^23: adding it to a float32 of magnitude under 2^22
// and taking it away again rounds to the nearest integer (ties to even).
const roundMagic = 12582912

func round32(v float32) float32 { return float32(v+roundMagic) - roundMagic }

// scan entropy-codes the coefficients with q into j.out.
func (j *jpegEnc) scan(q *jpegQuant, sub bool) {
	j.out, j.acc, j.nacc = j.out[:0], 0, 0
	var dc [3]int
	if !sub {
		for i := 0; i < len(j.coef[0]); i += 64 {
			for c := range 3 {
				dc[c] = j.block(j.coef[c][i:i+64], q, min(c, 1), dc[c])
			}
		}
	} else {
		bw := j.pw / 8 // luma blocks across
		cw := bw / 2   // chroma blocks across
		for my := 0; my < j.ph/16; my++ {
			for mx := 0; mx < cw; mx++ {
				for k := range 4 {
					i := ((2*my+k/2)*bw + 2*mx + k%2) * 64
					dc[0] = j.block(j.coef[0][i:i+64], q, 0, dc[0])
				}
				i := (my*cw + mx) * 64
				dc[1] = j.block(j.coef[1][i:i+64], q, 1, dc[1])
				dc[2] = j.block(j.coef[2][i:i+64], q, 1, dc[2])
			}
		}
	}
	j.emit(0x7f, 7) // pad the last byte with ones
	j.flush()
}

// block codes one block with table t after the previous DC value prev, and
// returns its DC value.
func (j *jpegEnc) block(coef []float32, q *jpegQuant, t, prev int) int {
	dcT, acT := &huffTables[2*t], &huffTables[2*t+1]
	inv := &q.inv[t]
	blk := (*[64]float32)(coef)
	dc := int(round32(blk[0] * inv[0]))
	j.emitValue(dcT, 0, dc-prev)
	var zz [64]int32
	last := 0 // zigzag position of the last value coded
	for nz := quantizeAC(blk, inv, &zz); nz != 0; nz &= nz - 1 {
		k := bits.TrailingZeros64(nz)
		run := k - last - 1
		for ; run > 15; run -= 16 {
			j.emitCode(acT[0xf0])
		}
		j.emitValue(acT, run, int(zz[k]))
		last = k
	}
	if last < 63 {
		j.emitCode(acT[0])
	}
	return dc
}

// emitValue emits the code for (run, size of v) and the bits of v.
func (j *jpegEnc) emitValue(t *[256]huffCode, run, v int) {
	a := v
	if v < 0 {
		a, v = -v, v-1
	}
	n := uint(bits.Len(uint(a)))
	c := t[run<<4|int(n)]
	j.emit(uint32(c.bits)<<n|uint32(v)&(1<<n-1), uint(c.n)+n)
}

func (j *jpegEnc) emitCode(c huffCode) { j.emit(uint32(c.bits), uint(c.n)) }

// emit appends the n low bits of bits (n at most 32), stuffing a zero
// after every 0xff. Whole 32-bit words go out at once; flush writes what is
// left.
func (j *jpegEnc) emit(bits uint32, n uint) {
	j.acc = j.acc<<n | uint64(bits)
	if j.nacc += n; j.nacc < 32 {
		return
	}
	j.nacc -= 32
	w := uint32(j.acc >> j.nacc)
	// A byte is 0xff where adding 1 carries out of it: test all four at
	// once (the classic has-zero-byte test on the complement).
	if x := ^w; (x-0x01010101)&^x&0x80808080 == 0 {
		j.out = binary.BigEndian.AppendUint32(j.out, w)
		return
	}
	for s := 24; s >= 0; s -= 8 {
		b := byte(w >> s)
		j.out = append(j.out, b)
		if b == 0xff {
			j.out = append(j.out, 0)
		}
	}
}

// flush writes the whole bytes still in the accumulator.
func (j *jpegEnc) flush() {
	for j.nacc >= 8 {
		j.nacc -= 8
		b := byte(j.acc >> j.nacc)
		j.out = append(j.out, b)
		if b == 0xff {
			j.out = append(j.out, 0)
		}
	}
}
