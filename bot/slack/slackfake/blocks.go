package slackfake

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// validateBlocks checks Block Kit blocks as Slack does for the kinds the
// fake knows (section, actions with buttons, context, divider, header,
// rich_text), and returns the buttons. Slack's limits: 50 blocks, a
// section's text 3000 characters, 25 elements in an actions block, a
// button's text 75 characters, its value 2000, block_id and action_id 255
// and unique in the message, styles "primary" and "danger".
func validateBlocks(raw []byte) ([]Button, error) {
	var blocks []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, fmt.Errorf("blocks are not a JSON array of objects: %v", err)
	}
	if len(blocks) > 50 {
		return nil, fmt.Errorf("%d blocks, over 50", len(blocks))
	}
	blockIDs, actionIDs := map[string]bool{}, map[string]bool{}
	var buttons []Button
	for i, b := range blocks {
		var typ, blockID string
		_ = json.Unmarshal(b["type"], &typ)
		if id, ok := b["block_id"]; ok {
			if err := json.Unmarshal(id, &blockID); err != nil || blockID == "" || len(blockID) > 255 {
				return nil, fmt.Errorf("block %d: block_id %s", i, id)
			}
			if blockIDs[blockID] {
				return nil, fmt.Errorf("block %d: block_id %q used twice", i, blockID)
			}
			blockIDs[blockID] = true
		}
		switch typ {
		case "section":
			var t textObject
			if err := json.Unmarshal(b["text"], &t); err != nil || !t.valid(3000) {
				return nil, fmt.Errorf("block %d: a section needs a text object of 1 to 3000 characters", i)
			}
		case "header":
			var t textObject
			if err := json.Unmarshal(b["text"], &t); err != nil || t.Type != "plain_text" || !t.valid(150) {
				return nil, fmt.Errorf("block %d: a header needs plain_text of 1 to 150 characters", i)
			}
		case "actions":
			var els []map[string]json.RawMessage
			if err := json.Unmarshal(b["elements"], &els); err != nil || len(els) == 0 || len(els) > 25 {
				return nil, fmt.Errorf("block %d: actions need 1 to 25 elements", i)
			}
			for j, e := range els {
				btn, err := button(e)
				if err != nil {
					return nil, fmt.Errorf("block %d element %d: %v", i, j, err)
				}
				if actionIDs[btn.ActionID] {
					return nil, fmt.Errorf("block %d element %d: action_id %q used twice in the message", i, j, btn.ActionID)
				}
				actionIDs[btn.ActionID] = true
				btn.BlockID = blockID
				buttons = append(buttons, btn)
			}
		case "context", "rich_text":
			var els []json.RawMessage
			if err := json.Unmarshal(b["elements"], &els); err != nil || len(els) == 0 {
				return nil, fmt.Errorf("block %d: %s needs elements", i, typ)
			}
		case "divider":
		default:
			return nil, fmt.Errorf("block %d: the fake does not know blocks of type %q", i, typ)
		}
	}
	return buttons, nil
}

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func (t textObject) valid(max int) bool {
	n := utf8.RuneCountInString(t.Text)
	return (t.Type == "mrkdwn" || t.Type == "plain_text") && n >= 1 && n <= max
}

func button(e map[string]json.RawMessage) (Button, error) {
	var b struct {
		Type     string     `json:"type"`
		Text     textObject `json:"text"`
		ActionID string     `json:"action_id"`
		Value    string     `json:"value"`
		Style    string     `json:"style"`
	}
	raw, _ := json.Marshal(e)
	if err := json.Unmarshal(raw, &b); err != nil {
		return Button{}, err
	}
	switch {
	case b.Type != "button":
		return Button{}, fmt.Errorf("the fake knows button elements only, not %q", b.Type)
	case b.Text.Type != "plain_text" || !b.Text.valid(75):
		return Button{}, fmt.Errorf("a button needs plain_text of 1 to 75 characters")
	case len(b.ActionID) > 255:
		return Button{}, fmt.Errorf("an action_id over 255 characters")
	case len(b.Value) > 2000:
		return Button{}, fmt.Errorf("a value over 2000 characters")
	case b.Style != "" && b.Style != "primary" && b.Style != "danger":
		return Button{}, fmt.Errorf("style %q", b.Style)
	}
	return Button{ActionID: b.ActionID, Text: b.Text.Text, Value: b.Value, Style: b.Style}, nil
}
