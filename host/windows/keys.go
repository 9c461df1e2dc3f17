package windows

import "strconv"

// vkey is a Windows virtual-key code and whether its key is an extended
// one (KEYEVENTF_EXTENDEDKEY: the second Enter, the arrows and the block
// above them, the right Control and Alt, the Windows keys).
type vkey struct {
	vk  uint16
	ext bool
}

// Virtual-key codes the injector names (WinUser.h).
const (
	vkBack     = 0x08
	vkTab      = 0x09
	vkReturn   = 0x0d
	vkEscape   = 0x1b
	vkSpace    = 0x20
	vkLShift   = 0xa0
	vkRShift   = 0xa1
	vkLControl = 0xa2
	vkRControl = 0xa3
	vkLMenu    = 0xa4 // left Alt
	vkRMenu    = 0xa5 // right Alt, AltGr on layouts that have it
	vkLWin     = 0x5b
	vkRWin     = 0x5c
	vkF1       = 0x70
)

// namedKeys maps the values of the browser's KeyboardEvent.key that name a
// key rather than a character to virtual keys. A name the browser gives to
// both sides of a key (Shift, Control, Alt, Meta) means the left one. F1
// to F24 are added by init.
var namedKeys = map[string]vkey{
	"Enter":     {vkReturn, false},
	"Escape":    {vkEscape, false},
	"Esc":       {vkEscape, false},
	"Backspace": {vkBack, false},
	"Tab":       {vkTab, false},
	"Delete":    {0x2e, true},
	"Del":       {0x2e, true},
	"Insert":    {0x2d, true},
	"Clear":     {0x0c, false},

	"ArrowLeft":  {0x25, true},
	"ArrowUp":    {0x26, true},
	"ArrowRight": {0x27, true},
	"ArrowDown":  {0x28, true},
	"Left":       {0x25, true},
	"Up":         {0x26, true},
	"Right":      {0x27, true},
	"Down":       {0x28, true},
	"Home":       {0x24, true},
	"End":        {0x23, true},
	"PageUp":     {0x21, true},
	"PageDown":   {0x22, true},

	"Shift":      {vkLShift, false},
	"Control":    {vkLControl, false},
	"Alt":        {vkLMenu, false},
	"Meta":       {vkLWin, true},
	"OS":         {vkLWin, true},
	"Super":      {vkLWin, true},
	"AltGraph":   {vkRMenu, true}, // the system adds the left Control on layouts with AltGr
	"CapsLock":   {0x14, false},
	"NumLock":    {0x90, true},
	"ScrollLock": {0x91, false},

	"ContextMenu": {0x5d, true}, // VK_APPS
	"Apps":        {0x5d, true},
	"PrintScreen": {0x2c, true}, // VK_SNAPSHOT
	"Pause":       {0x13, false},
	"Cancel":      {0x03, true},
	"Help":        {0x2f, false},
	"Select":      {0x29, false},
	"Execute":     {0x2b, false},
	"Spacebar":    {vkSpace, false},

	"Convert":    {0x1c, false},
	"NonConvert": {0x1d, false},
	"KanaMode":   {0x15, false},
	"HangulMode": {0x15, false},
	"HanjaMode":  {0x19, false},
	"KanjiMode":  {0x19, false},

	"BrowserBack":        {0xa6, true},
	"BrowserForward":     {0xa7, true},
	"BrowserRefresh":     {0xa8, true},
	"BrowserStop":        {0xa9, true},
	"BrowserSearch":      {0xaa, true},
	"BrowserFavorites":   {0xab, true},
	"BrowserHome":        {0xac, true},
	"AudioVolumeMute":    {0xad, true},
	"AudioVolumeDown":    {0xae, true},
	"AudioVolumeUp":      {0xaf, true},
	"MediaTrackNext":     {0xb0, true},
	"MediaTrackPrevious": {0xb1, true},
	"MediaStop":          {0xb2, true},
	"MediaPlayPause":     {0xb3, true},
	"MediaPlay":          {0xb3, true},
	"LaunchMail":         {0xb4, true},
	"Sleep":              {0x5f, false},
}

// ignoredKeys are values of KeyboardEvent.key that stand for no key to
// press: a dead key (the browser sends the composed character next), an
// input method at work, a key it could not identify.
var ignoredKeys = map[string]bool{"Dead": true, "Process": true, "Unidentified": true}

// shortcutKeys are the modifiers that make a character key a shortcut
// (Control+C): while the helper holds one, a character is pressed as its
// virtual key, not typed as a character.
var shortcutKeys = map[uint16]bool{vkLControl: true, vkRControl: true, vkLMenu: true, vkLWin: true, vkRWin: true}

func init() {
	for i := 1; i <= 24; i++ {
		namedKeys["F"+strconv.Itoa(i)] = vkey{vkF1 + uint16(i-1), false}
	}
}
