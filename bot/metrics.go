package bot

import "github.com/prometheus/client_golang/prometheus"

// metrics are the bot's Prometheus metrics; the zero value records
// nothing until RegisterMetrics.
type metrics struct {
	commands   *prometheus.CounterVec // by verb
	tickets    prometheus.Counter
	deliveries *prometheus.CounterVec // by kind and outcome
	agents     prometheus.GaugeFunc
}

// RegisterMetrics registers the bot's metrics with reg: commands by verb,
// tickets opened, deliveries by kind and outcome (sent, retry, failed) and
// agents online.
func (c *Core) RegisterMetrics(reg prometheus.Registerer) {
	m := &metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gethelp_bot_commands_total", Help: "Slash commands handled, by verb.",
		}, []string{"verb"}),
		tickets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gethelp_bot_tickets_total", Help: "Requests for help opened.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gethelp_bot_deliveries_total", Help: "Outbox delivery attempts, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		agents: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gethelp_bot_agents_online", Help: "Agents connected now.",
		}, func() float64 {
			c.mu.Lock()
			defer c.mu.Unlock()
			return float64(len(c.agents))
		}),
	}
	reg.MustRegister(m.commands, m.tickets, m.deliveries, m.agents)
	c.mu.Lock()
	c.metrics = m
	c.mu.Unlock()
}

func (c *Core) countCommand(verb string) {
	if m := c.getMetrics(); m != nil {
		m.commands.WithLabelValues(verb).Inc()
	}
}

func (c *Core) countTicket() {
	if m := c.getMetrics(); m != nil {
		m.tickets.Inc()
	}
}

func (c *Core) countDelivery(kind, outcome string) {
	if m := c.getMetrics(); m != nil {
		m.deliveries.WithLabelValues(kind, outcome).Inc()
	}
}

func (c *Core) getMetrics() *metrics {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metrics
}
