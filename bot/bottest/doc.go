// Package bottest helps test the chat network adapters (bot/webchat,
// bot/slack, bot/discord): Core stands in for the bot's core, as the
// bot.Handler an adapter's Run calls, records what it is given and lets a
// test wait for it.
//
// The adapters' tests import it; the bot itself does not. Every wait is
// bounded by Timeout, so a test that never gets there fails instead of
// hanging.
package bottest
