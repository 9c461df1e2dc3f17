package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// rgb is a colour.
type rgb struct{ r, g, b byte }

// parseColour reads #rrggbb.
func parseColour(s string) (rgb, error) {
	if len(s) != 7 || s[0] != '#' {
		return rgb{}, fmt.Errorf("colour %q: want #rrggbb", s)
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return rgb{}, fmt.Errorf("colour %q: want #rrggbb", s)
	}
	return rgb{byte(v >> 16), byte(v >> 8), byte(v)}, nil
}

func newPicture(w, h int) *picture {
	return &picture{w: w, h: h, pix: make([]byte, 4*w*h)}
}

func (p *picture) set(x, y int, c rgb) {
	i := 4 * (y*p.w + x)
	p.pix[i], p.pix[i+1], p.pix[i+2], p.pix[i+3] = c.b, c.g, c.r, 0xff
}

// at returns the colour at x, y (for tests).
func (p *picture) at(x, y int) rgb {
	i := 4 * (y*p.w + x)
	return rgb{p.pix[i+2], p.pix[i+1], p.pix[i]}
}

func solid(w, h int, c rgb) *picture {
	p := newPicture(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p.set(x, y, c)
		}
	}
	return p
}

// modPattern is xsetroot -mod mx my -fg fg -bg bg: a 16×16 tile, repeated
// from the top-left corner, whose pixel x, y is fg where y is a multiple
// of my or x one of mx (within the tile), bg elsewhere.
func modPattern(w, h, mx, my int, fg, bg rgb) *picture {
	p := newPicture(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := bg
			if (y%16)%my == 0 || (x%16)%mx == 0 {
				c = fg
			}
			p.set(x, y, c)
		}
	}
	return p
}

// readPPM reads a binary PPM (P6) with a maxval of 255.
func readPPM(path string) (*picture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodePPM(data)
}

var errPPM = errors.New("not a binary PPM with 8 bits per sample")

func decodePPM(data []byte) (*picture, error) {
	r := bufio.NewReader(bytes.NewReader(data))
	// The header: P6, width, height, maxval, each after white space and
	// comments, then one white-space byte before the samples.
	token := func() (int, error) {
		var s []byte
		for {
			c, err := r.ReadByte()
			if err != nil {
				return 0, errPPM
			}
			switch {
			case c == '#' && len(s) == 0:
				if _, err := r.ReadBytes('\n'); err != nil {
					return 0, errPPM
				}
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
				if len(s) > 0 {
					return strconv.Atoi(string(s))
				}
			default:
				s = append(s, c)
				if len(s) > 8 {
					return 0, errPPM
				}
			}
		}
	}
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "P6" {
		return nil, errPPM
	}
	w, err1 := token()
	h, err2 := token()
	maxval, err3 := token()
	if errors.Join(err1, err2, err3) != nil || maxval != 255 || w <= 0 || h <= 0 || w > 1<<14 || h > 1<<14 {
		return nil, errPPM
	}
	samples := make([]byte, 3*w*h)
	if _, err := io.ReadFull(r, samples); err != nil {
		return nil, fmt.Errorf("%w: %d×%d but only part of its samples", errPPM, w, h)
	}
	p := newPicture(w, h)
	for i := 0; i < w*h; i++ {
		p.pix[4*i], p.pix[4*i+1], p.pix[4*i+2], p.pix[4*i+3] = samples[3*i+2], samples[3*i+1], samples[3*i], 0xff
	}
	return p, nil
}
