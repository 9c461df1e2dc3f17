package screen

// SetJPEGQuality sets the JPEG quality of a level, for experiments.
func SetJPEGQuality(lv Level, q int) { jpegQuality[lv] = q }

// SetMaxSize lowers the largest screen side d accepts, so that fuzzing does
// not spend its time allocating 256 MiB frames.
func SetMaxSize(d *Decoder, n int) { d.maxSide = n }

// JPEGSize is the size of img as one JPEG at quality (4:4:4 unless sub).
func JPEGSize(img *Image, quality int, sub bool) int {
	var j jpegEnc
	scan, q := j.encode(img, img.Bounds(), sub, quality, 0, 0)
	return len(scan) + len(q.tables) + 40
}

// Features returns the number of anchored features of r in m at every
// step-th row, for benchmarks.
func Features(m *Image, r Rect, step int) int { return len(features(nil, m, r, step)) }
