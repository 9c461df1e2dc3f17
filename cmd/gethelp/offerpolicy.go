package main

import (
	"fmt"

	"github.com/gethelp/gethelp/helperkey"
	"github.com/gethelp/gethelp/host"
)

// defaultOfferPort is the UDP port gethelp host serve listens on and
// gethelp viewer offer dials when the policy or the helper names none. It
// is not 3478 or 3479, the rendezvous's STUN ports, so that a computer may
// run both.
const defaultOfferPort = 3480

// OfferHelpPolicy is the administrator's policy for offers of help, like
// Windows' "Offer Remote Assistance" and its helpers group. It is off
// unless the administrator's policy says enabled: true; GETHELP_POLICY may
// only turn it off (onlyOff), and the user's settings have no say.
type OfferHelpPolicy struct {
	Enabled *bool `yaml:"enabled"`
	// Port is the UDP port gethelp host serve listens on; zero means
	// defaultOfferPort.
	Port int `yaml:"port"`
	// Helpers are the helpers' public key lines (gethelp viewer keygen
	// prints them): helperkey.ParseLine.
	Helpers []string `yaml:"helpers"`

	allow  helperkey.Allowlist // Helpers, parsed by check
	source string              // the file it came from
}

// check validates the section read from path and parses its helpers.
func (o *OfferHelpPolicy) check(path string) error {
	if o == nil {
		return nil
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("port %d is not a UDP port", o.Port)
	}
	a, err := helperkey.ParseAllowlist(o.Helpers)
	if err != nil {
		return err
	}
	o.allow, o.source = a, path
	return nil
}

// onlyOff refuses an offer_help section in a policy that may only make
// things stricter.
func (o *OfferHelpPolicy) onlyOff(path string) error {
	if o == nil || (o.Enabled != nil && !*o.Enabled && o.Port == 0 && len(o.Helpers) == 0) {
		return nil
	}
	return fmt.Errorf("policy %s: offer_help may only say enabled: false there; only the administrator's policy turns offering help on and lists the helpers", path)
}

// offersOn reports whether offers of help are on.
func (p Policy) offersOn() bool {
	return p.OfferHelp != nil && p.OfferHelp.Enabled != nil && *p.OfferHelp.Enabled &&
		(p.AllowRemoteAssistance == nil || *p.AllowRemoteAssistance)
}

// offerPolicy is what the host applies to each offer.
func (p Policy) offerPolicy() host.OfferPolicy {
	if !p.offersOn() {
		return host.OfferPolicy{}
	}
	return host.OfferPolicy{Enabled: true, Helpers: p.OfferHelp.allow}
}

// offerPort is the port gethelp host serve listens on.
func (p Policy) offerPort() int {
	if p.OfferHelp != nil && p.OfferHelp.Port != 0 {
		return p.OfferHelp.Port
	}
	return defaultOfferPort
}

// checkServing refuses gethelp host serve unless the policy turns offers
// on and lists at least one helper. adminPath names the administrator's
// policy, which is where offers are turned on.
func (p Policy) checkServing(adminPath string) error {
	switch {
	case p.AllowRemoteAssistance != nil && !*p.AllowRemoteAssistance:
		return fmt.Errorf("remote assistance is turned off on this computer by the administrator's policy (%s)", p.Source)
	case p.OfferHelp == nil || p.OfferHelp.Enabled == nil:
		return fmt.Errorf("offering help is off on this computer: the administrator's policy %s does not turn it on (offer_help: {enabled: true, helpers: [...]})", adminPath)
	case !*p.OfferHelp.Enabled:
		return fmt.Errorf("offering help is turned off on this computer by the policy %s (offer_help: enabled: false)", p.Source)
	case p.OfferHelp.allow.Len() == 0:
		return fmt.Errorf("offering help is on, but the administrator's policy %s lists no helpers (offer_help: helpers)", p.OfferHelp.source)
	}
	return nil
}
