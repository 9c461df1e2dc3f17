// Package synthetic is an animated test screen that needs no display: a
// host.Source and host.PointerSource for tests, benchmarks and
// `gethelp demo`.
//
// Decisions:
//
//   - What it shows: a static background (a gradient, a light "document"
//     window and a dark "terminal" full of word-like blocks in a few
//     colours, the panel of a clock), a 48×48 box that bounces about, and a
//     seven-segment counter of the frame number. So an encoder meets
//     gradients, flat text-like areas and small changes, as on a desktop.
//   - Deterministic: frame n depends on the size and n only. Frame(n) draws
//     it afresh and Changes(a, b) says where frames a and b differ, so tests
//     can check any capture pixel by pixel.
//   - Exact dirty rects: the box's old and new places and the digits that
//     changed, no more, and every pixel that changed is inside them. Next
//     redraws only those rects in its one buffer.
//   - Real time: frame n is due n/fps seconds after the first Next. A
//     caller that falls behind gets the latest frame, with the changes
//     since the frame it had (as a real screen would), never a backlog.
//   - The pointer goes round a circle, one step per frame time, with one
//     arrow Cursor sent on the first call.
//   - No goroutine: Next and Pointer wait on a timer, the context and the
//     Close channel, so there is nothing to leak.
package synthetic
