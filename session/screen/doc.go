// Package screen is the screen-update codec of the gethelp protocol: the
// shared image types, and an Encoder on the host that turns changed regions
// of the screen into compact update messages, and a Decoder on the viewer
// that applies them to its framebuffer.
//
// # Decisions
//
// Updates travel on one reliable, ordered stream to the one Decoder that
// belongs to the Encoder, and the host never drops an encoded update (it
// paces by not encoding the next one until the viewer acknowledges). So the
// two sides share state across updates: the frame the decoder holds, one
// zstd stream and the JPEG tables. A keyframe starts all three afresh.
//
// The encoder keeps the frame it last sent as exact source pixels. For each
// update it compares the dirty tiles (128×128) with it, finds moved content
// and sends it as copy ops, then sends what is still different tile by
// tile, trimmed to the box of changed pixels, in the cheapest form for its
// content:
//
//   - one colour: a solid op;
//   - up to 256 colours (text, UI): a palette op, lossless, the indices
//     packed or, for gradients and flat UI, run-length coded;
//   - photo-like (many colours, mostly small steps between neighbours) and
//     the level below Full: JPEG, chroma halved at Low (quality 50) and
//     Medium (75), full at High with the quality picked per rectangle for
//     40.5 dB PSNR (the encoder knows the error exactly in the DCT domain),
//     but at most 3 bits per pixel: only noise needs more, and there it
//     hides the error;
//   - otherwise: lossless, a median edge predictor over green, blue−green
//     and red−green.
//
// Low also reduces palette and lossless rectangles to 5-6-5 bits per
// pixel. Pixels sent below the level asked for are sent again, exactly or
// better, when a later update asks for more; at Full every pixel the
// decoder holds equals the encoded image.
//
// Copies come from three detectors, and each copy is checked pixel by pixel
// against the frame the decoder holds before it is sent: move hints from
// the host (window geometry), vertical scrolls found by hashing the rows of
// each tile column, and two-dimensional moves found by content-defined
// anchors (see motion.go). A confirmed offset is grown from its seed to the
// largest rectangle that matches.
//
// Everything but the JPEG scans goes through the zstd stream, which
// persists across updates with a window of 8 MiB, so that glyphs and UI
// seen in recent updates cost little. JPEG scans are already entropy-coded
// and travel beside it. (Version 1 used one DEFLATE stream, whose 32 KiB
// window is less than one screenful of text; zstd took 28% fewer bytes for
// scrolling text in the same time.)
//
// # Wire format, version 2
//
// Integers marked uvarint are unsigned LEB128 (encoding/binary's Uvarint);
// pixels are 3 bytes: blue, green, red. An update is:
//
//	offset  size     field
//	0       1        version: 2
//	1       1        flags: bit 0 K = keyframe; the other bits are 0
//	2       uvarint  width,  1..8192      (only if K)
//	        uvarint  height, 1..8192      (only if K)
//	        uvarint  R: bytes of command stream in this update, 1..12·W·H+2^20
//	        uvarint  Z: bytes of zstd data that follow
//	        Z        zstd data (RFC 8878)
//	        rest     JPEG scans, in the order the ops use them; all must be used
//
// A keyframe replaces the framebuffer by a black one of the new size (the
// decoder reports OpResize), starts a new zstd frame and forgets the JPEG
// tables. The zstd data of a keyframe begin with the frame header (magic
// number, a window of at most 8 MiB, no checksum, no content size); those
// of every update are whole blocks of that frame, none of them its last
// block, and the frame goes on across the updates that follow, until the
// next keyframe. An update's blocks decompress to exactly R bytes of
// command stream: a sequence of ops, each an op byte and its fields. Rectangles are x, y, w, h
// as four uvarints and must lie inside the frame; pixel ops have w and h at
// most 256.
//
//	op  name      fields
//	1   copy      x y w h sx sy: copy the w×h pixels at sx, sy to x, y, reading
//	              every source pixel before writing (as canvas drawImage of a
//	              canvas onto itself); copies come before every pixel op
//	2   solid     x y w h, pixel
//	3   palette   x y w h, n−1 (1 byte; n ≥ 2), n pixels, bits (1 byte), then
//	              bits 1, 2, 4, 8 (n ≤ 2^bits): h rows of ⌈w·bits/8⌉ bytes,
//	                index of the leftmost pixel in the most significant bits
//	              bits 0 (n ≤ 128): runs in raster order, rows running on: a
//	                byte i, index i&0x7f; if i&0x80 a uvarint k follows and the
//	                run is k+2 pixels, else 1; the runs fill w·h exactly
//	4   lossless  x y w h, three planes of w·h bytes, row by row: G, B−G, R−G
//	              (mod 256), each as residuals v − p (mod 256) of the prediction
//	              p from the plane's own values inside the rectangle: 0 for the
//	              first pixel, the left neighbour in the first row, the upper
//	              neighbour in the first column, elsewhere the median edge
//	              detector of left a, upper b and upper-left c:
//	              min(a,b) if c ≥ max(a,b), max(a,b) if c ≤ min(a,b), else a+b−c
//	5   jpeg      x y w h, flags (1 byte: bit 0 tables follow, bit 1 4:4:4, the
//	              other bits 0), [uvarint T, T bytes of tables: whole DQT and DHT
//	              segments, T ≤ 2048], uvarint S: the next S bytes of the JPEG
//	              scans are the entropy-coded segment of a baseline JPEG
//
// The decoder builds a JPEG file from SOI, the tables most recently sent,
// SOF0 (8 bits, h, w, three components: 1 sampled 2×2 — 1×1 with the 4:4:4
// flag — with table 0; 2 and 3 sampled 1×1 with table 1), SOS (components 1
// with Huffman tables 0/0, 2 and 3 with 1/1, Ss 0, Se 63, Ah Al 0), the scan
// and EOI, and converts its YCbCr to RGB as JFIF does.
//
// An update has at most 1024 + W·H/64 ops, and its ops touch at most 4·W·H
// pixels in all. The decoder sets the fourth byte of every pixel to 0xff.
//
// A decoder that finds an error refuses every update until the next
// keyframe; the viewer then asks the host for one (Encoder.Reset). Each
// version has its own version byte, and a decoder refuses every other:
// version 1 (DEFLATE) and version 2 do not understand each other.
package screen
