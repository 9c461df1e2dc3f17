# The whole test suite, as CI runs it: `make test`.
.PHONY: test demo build fuzz

test:
	./scripts/test.sh

demo:
	go run ./cmd/gethelp demo

build:
	go build -o bin/gethelp ./cmd/gethelp

# Fuzz each parser for a while (not part of `make test`, which replays the
# checked-in seed corpora).
FUZZTIME ?= 60s
fuzz:
	go test -run=NONE -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./invitations/
	go test -run=NONE -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./session/
	go test -run=NONE -fuzz=FuzzParseInput -fuzztime=$(FUZZTIME) ./session/
	go test -run=NONE -fuzz=FuzzReadMessage -fuzztime=$(FUZZTIME) ./session/files/
	go test -run=NONE -fuzz=FuzzReadMessage -fuzztime=$(FUZZTIME) ./agentlink/
	go test -run=NONE -fuzz=FuzzParseReply -fuzztime=$(FUZZTIME) ./bot/email/
	go test -run=NONE -fuzz=FuzzEvents -fuzztime=$(FUZZTIME) ./bot/slack/
	go test -run=NONE -fuzz=FuzzDecodeEvent -fuzztime=$(FUZZTIME) ./bot/discord/
	go test -run=NONE -fuzz=FuzzFilterConn -fuzztime=$(FUZZTIME) ./host/x11/
	go test -run=NONE -fuzz=FuzzParseXIQueryDeviceReply -fuzztime=$(FUZZTIME) ./host/x11/
	go test -run=NONE -fuzz=FuzzVerify -fuzztime=$(FUZZTIME) ./sessionlog/
	go test -run=NONE -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./session/screen/
	go test -run=NONE -fuzz=FuzzParseCommand -fuzztime=$(FUZZTIME) ./cmd/gethelp/
	go test -run=NONE -fuzz=FuzzSettings -fuzztime=$(FUZZTIME) ./cmd/gethelp/
	go test -run=NONE -fuzz=FuzzParseLine -fuzztime=$(FUZZTIME) ./helperkey/
	go test -run=NONE -fuzz=FuzzParseAnswer -fuzztime=$(FUZZTIME) ./rendezvous/
	go test -run=NONE -fuzz=FuzzBindingAnswer -fuzztime=$(FUZZTIME) ./rendezvous/
	go test -run=NONE -fuzz=FuzzWire -fuzztime=$(FUZZTIME) ./rendezvous/
	go test -run=NONE -fuzz=FuzzParseStart -fuzztime=$(FUZZTIME) ./host/portal/
	go test -run=NONE -fuzz=FuzzParseGstLine -fuzztime=$(FUZZTIME) ./host/portal/
	go test -run=NONE -fuzz='^FuzzIPC$$' -fuzztime=$(FUZZTIME) ./host/wlroots/
	go test -run=NONE -fuzz=FuzzParseExtEvent -fuzztime=$(FUZZTIME) ./host/wlroots/
