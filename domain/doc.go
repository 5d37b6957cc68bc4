// Package domain holds the participation service's rules: campaigns,
// registrations, store visits and the draw, and the domain events that record
// them. It is pure: no I/O, no clock, no global randomness. Time, keys and
// random sources come in as arguments so that callers and tests pin them.
package domain
