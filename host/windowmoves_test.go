package host

import (
	"slices"
	"testing"

	"github.com/gethelp/gethelp/session/screen"
)

func TestWindowMoves(t *testing.T) {
	bounds := screen.Rect{W: 1920, H: 1080}
	foot := func(x, y int) Window {
		return Window{Instance: "foot", Class: "foot", Rect: screen.Rect{X: x, Y: y, W: 1106, H: 488}}
	}
	other := Window{Instance: "xterm", Class: "XTerm", Rect: screen.Rect{X: 0, Y: 0, W: 400, H: 300}}
	tests := []struct {
		name      string
		prev, cur []Window
		want      []screen.Move
	}{
		{"no previous list", nil, []Window{foot(90, 87)}, nil},
		{"nothing moved", []Window{other, foot(80, 80)}, []Window{other, foot(80, 80)}, nil},
		{"one window moved", []Window{other, foot(80, 80)}, []Window{other, foot(90, 87)},
			[]screen.Move{{Src: foot(80, 80).Rect, DstX: 90, DstY: 87}}},
		{"its old place listed after it (sway's ghost)", []Window{foot(80, 80), foot(70, 73)}, []Window{foot(90, 87), foot(80, 80), foot(70, 73)},
			[]screen.Move{{Src: foot(80, 80).Rect, DstX: 90, DstY: 87}}},
		{"resized: not the same window", []Window{other}, []Window{{Instance: "xterm", Class: "XTerm", Rect: screen.Rect{X: 10, Y: 10, W: 500, H: 300}}}, nil},
		{"partly off the image", []Window{foot(80, 80)}, []Window{foot(1000, 80)}, nil},
		{"new window", []Window{other}, []Window{other, foot(80, 80)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := windowMoves(tt.prev, tt.cur, bounds); !slices.Equal(got, tt.want) {
				t.Errorf("windowMoves = %v, want %v", got, tt.want)
			}
		})
	}
}
