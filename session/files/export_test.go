package files

import "io"

// ReadMessageForTest reads one wire message as Send and Receive do.
func ReadMessageForTest(r io.Reader) (any, error) { return readMessage(r) }

// WriteMessageForTest writes a message returned by ReadMessageForTest or
// one of the constructors below.
func WriteMessageForTest(w io.Writer, m any) error { return writeMessage(w, m) }

// Message constructors, for golden vectors and for playing a peer by hand.
func OfferMessageForTest(o Offer) any                       { return newOffer(o) }
func AcceptMessageForTest(offset int64) any                 { return accepted(offset) }
func DeclineMessageForTest(reason, detail string) any       { return declined(reason, detail) }
func DoneMessageForTest(ok bool, reason, detail string) any { return verdict(ok, reason, detail) }
